"""Device signatures in DER (what Android and iOS produce) are accepted as well as raw r || s."""

from __future__ import annotations

import httpx
import redis.asyncio as aioredis
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.accounts.conftest import Person, Phone, register, sign_in, step_up
from tests.support.signing import b64url
from wallet_api.keys.jose import device_signature_der

_KEY = ec.generate_private_key(ec.SECP256R1())


async def test_a_phone_signing_in_der_registers_signs_in_and_steps_up(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    phone = await register(client, redis, nhung, Phone(der=True))
    r = await sign_in(client, phone)
    assert r.status_code == 200, r.text
    await step_up(client, phone)


async def test_a_der_signature_that_is_not_strict_der_is_refused(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    c = (await client.post("/v1/auth/challenges", json={"device_id": phone.device_id})).json()
    der = phone.key.sign(c["sign"].encode(), ec.ECDSA(hashes.SHA256()))
    padded = der + b"\x00"  # trailing byte: BER-ish, not the one DER encoding
    r = await client.post(
        "/v1/auth/sign-in",
        json={"device_id": phone.device_id, "challenge": c["challenge"], "signature": b64url(padded)},
    )
    assert r.status_code == 401


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=80))
def test_raw_and_der_forms_of_one_signature_agree_and_nothing_else_reads(message: bytes) -> None:
    der = _KEY.sign(message, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert device_signature_der(der) == der == device_signature_der(raw)
    assert device_signature_der(der + b"\x00") is None
    assert device_signature_der(der[:-1]) is None
    assert device_signature_der(raw[:-1]) is None
    assert device_signature_der(encode_dss_signature(0, s)) is None
