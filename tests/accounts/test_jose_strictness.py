"""Device keys and device signatures are read by the one JOSE module, as strictly as tokens:
a signature or key in any form but the canonical one is refused, through the sign-in route too."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.accounts.conftest import Person, Phone, register
from tests.support.jose_flaws import flawed_signature
from wallet_api.accounts.device_keys import InvalidDeviceKey, normalise_public_jwk, verify_signature
from wallet_api.keys.jose import raw_signature

_PHONE = Phone()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _raw(message: bytes) -> bytes:
    return raw_signature(_PHONE.key.sign(message, ec.ECDSA(hashes.SHA256())))


@settings(max_examples=300, deadline=None)
@given(st.data(), st.binary(max_size=64))
def test_a_flawed_device_signature_never_verifies(data: st.DataObject, message: bytes) -> None:
    assert verify_signature(_PHONE.jwk, message, _PHONE.sign(message))
    assert not verify_signature(_PHONE.jwk, message, data.draw(flawed_signature(_raw(message))))


@pytest.mark.parametrize(
    "change",
    [
        {"x": _PHONE.jwk["x"] + "="},
        {"y": _PHONE.jwk["y"][:-1] + _ALPHABET[_ALPHABET.index(_PHONE.jwk["y"][-1]) | 1]},  # unused bits set
        {"x": _PHONE.jwk["x"].replace("-", "+").replace("_", "/")},
        {"x": " " + _PHONE.jwk["x"]},
        {"x": "AA" + _PHONE.jwk["x"]},
        {"crv": "P-384"},
        {"d": "AAAA"},
    ],
)
def test_a_device_key_in_any_but_the_canonical_form_is_refused(change: dict[str, Any]) -> None:
    jwk = {**_PHONE.jwk, **change}
    if jwk == _PHONE.jwk:  # a coordinate without "-" or "_" to swap
        return
    with pytest.raises(InvalidDeviceKey):
        normalise_public_jwk(jwk)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_a_flawed_sign_in_signature_is_refused_through_http(
    client: httpx.AsyncClient, redis: aioredis.Redis, registered: Phone, data: st.DataObject
) -> None:
    await redis.flushdb()  # each example starts without the lockout earlier examples earned
    c = (await client.post("/v1/auth/challenges", json={"device_id": registered.device_id})).json()
    signature = data.draw(
        flawed_signature(raw_signature(registered.key.sign(c["sign"].encode(), ec.ECDSA(hashes.SHA256()))))
    )
    r = await client.post(
        "/v1/auth/sign-in",
        json={"device_id": registered.device_id, "challenge": c["challenge"], "signature": signature},
    )
    # 422 when the request's schema already refuses the length (at least 40 characters).
    assert r.status_code in (401, 422), r.text


@pytest.fixture
async def registered(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> Phone:
    return await register(client, redis, nhung)
