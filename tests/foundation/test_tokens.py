"""Access tokens: only our ES256 keys, our audience and issuer, unexpired."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar

from wallet_api.auth.principal import Principal


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def token_for(app: Litestar) -> str:
    token, _ = await app.state.services.tokens.issue(
        Principal(kind="citizen", subject="acc-1", level=2, device_id="d1")
    )
    return str(token)


async def call(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/_probe/me", headers={"Authorization": f"Bearer {token}"})


async def test_valid_token_reaches_the_route(client: httpx.AsyncClient, app: Litestar) -> None:
    r = await call(client, await token_for(app))
    assert r.status_code == 200
    assert r.json() == {"subject": "acc-1", "level": 2}


async def test_issued_token_is_a_standard_es256_jws_verifiable_with_the_published_key(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    token = await token_for(app)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["typ"] == "at+jwt"
    jwks = (await client.get("/.well-known/jwks.json")).json()["keys"]
    public = jwt.PyJWK(next(k for k in jwks if k["kid"] == header["kid"]))
    claims = jwt.decode(token, public, algorithms=["ES256"], audience="citizen-wallet-api")
    assert (claims["sub"], claims["knd"], claims["lvl"], claims["dev"]) == ("acc-1", "citizen", 2, "d1")
    assert claims["exp"] > time.time()


async def test_alg_none_is_refused(client: httpx.AsyncClient, app: Litestar) -> None:
    claims = jwt.decode(await token_for(app), options={"verify_signature": False})
    forged = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert (await call(client, forged)).status_code == 401


async def test_hs256_signed_with_the_public_key_is_refused(client: httpx.AsyncClient, app: Litestar) -> None:
    token = await token_for(app)
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, options={"verify_signature": False})
    jwks = (await client.get("/.well-known/jwks.json")).json()["keys"]
    public = json.dumps(next(k for k in jwks if k["kid"] == kid)).encode()
    header = {"alg": "HS256", "kid": kid}
    signing_input = f"{b64(header)}.{b64(claims)}".encode()
    import hashlib
    import hmac

    sig = base64.urlsafe_b64encode(hmac.new(public, signing_input, hashlib.sha256).digest()).rstrip(b"=").decode()
    assert (await call(client, f"{signing_input.decode()}.{sig}")).status_code == 401


async def test_a_key_that_is_not_ours_is_refused(client: httpx.AsyncClient, app: Litestar) -> None:
    claims = jwt.decode(await token_for(app), options={"verify_signature": False})
    attacker = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, attacker, algorithm="ES256", headers={"kid": "attacker-key"})
    assert (await call(client, forged)).status_code == 401
    token = await token_for(app)
    ours = jwt.get_unverified_header(token)["kid"]
    forged_with_our_kid = jwt.encode(claims, attacker, algorithm="ES256", headers={"kid": ours})
    assert (await call(client, forged_with_our_kid)).status_code == 401


async def test_expired_token_is_refused(client: httpx.AsyncClient, app: Litestar) -> None:
    key = await app.state.services.keys.active_key("access-token")
    now = int(time.time())
    claims = {
        "iss": "http://testserver", "aud": "citizen-wallet-api", "sub": "a", "knd": "citizen",
        "iat": now - 600, "exp": now - 300, "jti": "j",
    }  # fmt: skip
    expired = jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})
    assert (await call(client, expired)).status_code == 401


async def test_wrong_audience_or_issuer_is_refused(client: httpx.AsyncClient, app: Litestar) -> None:
    key = await app.state.services.keys.active_key("access-token")
    now = int(time.time())
    base = {"sub": "a", "knd": "citizen", "iat": now, "exp": now + 60, "jti": "j"}
    for extra in (
        {"iss": "http://testserver", "aud": "another-api"},
        {"iss": "https://evil", "aud": "citizen-wallet-api"},
    ):
        token = jwt.encode({**base, **extra}, key.private_key, algorithm="ES256", headers={"kid": key.kid})
        assert (await call(client, token)).status_code == 401


async def test_unknown_principal_kind_is_refused(client: httpx.AsyncClient, app: Litestar) -> None:
    key = await app.state.services.keys.active_key("access-token")
    now = int(time.time())
    claims = {
        "iss": "http://testserver", "aud": "citizen-wallet-api", "sub": "a", "knd": "root",
        "iat": now, "exp": now + 60, "jti": "j",
    }  # fmt: skip
    token = jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})
    assert (await call(client, token)).status_code == 401


async def test_rotated_token_key_keeps_old_tokens_valid(client: httpx.AsyncClient, app: Litestar) -> None:
    old = await token_for(app)
    await app.state.services.keys.rotate("access-token")
    new = await token_for(app)
    assert jwt.get_unverified_header(old)["kid"] != jwt.get_unverified_header(new)["kid"]
    assert (await call(client, old)).status_code == 200
    assert (await call(client, new)).status_code == 200
