"""Forged and altered access tokens are refused on the identity routes (wallet_api/auth/tokens.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import ec

from tests.accounts.conftest import Person, register


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
async def genuine(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> str:
    phone = await register(client, redis, nhung)
    assert phone.access_token
    assert (await _me(client, phone.access_token)).status_code == 200
    return phone.access_token


async def test_alg_none_is_refused(client: httpx.AsyncClient, genuine: str) -> None:
    header, claims = _parts(genuine)
    forged = f"{_b64(json.dumps({**header, 'alg': 'none'}).encode())}.{_b64(json.dumps(claims).encode())}."
    assert (await _me(client, forged)).status_code == 401


async def test_hs256_signed_with_the_public_key_is_refused(client: httpx.AsyncClient, genuine: str) -> None:
    header, claims = _parts(genuine)
    jwks = (await client.get("/.well-known/jwks.json")).json()["keys"]
    public = next(k for k in jwks if k["kid"] == header["kid"])
    for secret in (json.dumps(public), public["x"]):
        # Built by hand: pyjwt itself refuses to use a JWK as an HMAC secret.
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": header["kid"]}).encode())
        body = _b64(json.dumps({**claims, "lvl": 2}).encode())
        mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        assert (await _me(client, f"{head}.{body}.{_b64(mac)}")).status_code == 401


async def test_unknown_kid_is_refused(client: httpx.AsyncClient, genuine: str) -> None:
    _, claims = _parts(genuine)
    attacker = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, attacker, algorithm="ES256", headers={"kid": "attacker-key"})
    assert (await _me(client, forged)).status_code == 401


async def test_right_kid_wrong_key_is_refused(client: httpx.AsyncClient, genuine: str) -> None:
    header, claims = _parts(genuine)
    attacker = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode({**claims, "lvl": 2}, attacker, algorithm="ES256", headers={"kid": header["kid"]})
    assert (await _me(client, forged)).status_code == 401


async def test_expired_token_is_refused(client: httpx.AsyncClient, app: Any, genuine: str) -> None:
    _, claims = _parts(genuine)
    key = await app.state.services.keys.active_key("access-token")
    now = int(time.time())
    expired = jwt.encode(
        {**claims, "iat": now - 3600, "nbf": now - 3600, "exp": now - 60},
        key.private_key,
        algorithm="ES256",
        headers={"kid": key.kid},
    )
    assert (await _me(client, expired)).status_code == 401


async def test_wrong_audience_is_refused(client: httpx.AsyncClient, app: Any, genuine: str) -> None:
    _, claims = _parts(genuine)
    key = await app.state.services.keys.active_key("access-token")
    for aud in ("some-other-api", ["some-other-api"]):
        forged = jwt.encode({**claims, "aud": aud}, key.private_key, algorithm="ES256", headers={"kid": key.kid})
        assert (await _me(client, forged)).status_code == 401


async def test_altered_claims_break_the_signature(client: httpx.AsyncClient, genuine: str) -> None:
    header, claims = _parts(genuine)
    signature = genuine.rsplit(".", 1)[1]
    raised = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps({**claims, 'lvl': 2}).encode())}.{signature}"
    assert (await _me(client, raised)).status_code == 401


async def test_a_verified_token_does_not_vouch_for_an_altered_copy(client: httpx.AsyncClient, genuine: str) -> None:
    # The genuine token is now in the verified-token cache; a copy with raised claims and
    # the genuine signature must still be checked, and refused.
    _, claims = _parts(genuine)
    head, _, signature = genuine.split(".")
    raised = _b64(json.dumps({**claims, "lvl": 2, "exp": int(time.time()) + 3600}).encode())
    assert (await _me(client, genuine)).status_code == 200
    assert (await _me(client, f"{head}.{raised}.{signature}")).status_code == 401
