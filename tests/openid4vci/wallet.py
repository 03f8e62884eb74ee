"""A third-party wallet written for the tests, from the specifications: its own DPoP key, holder
keys it generates, proofs it signs with ``cryptography`` (not with the server's JOSE module).

It is the Python client of the flow; tests/interop drives the same flow with the
independent npm implementations.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.signing import b64url, jws

PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
ISSUER = "http://testserver"


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }


def thumbprint(jwk: dict[str, str]) -> str:
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def key_proof(
    key: ec.EllipticCurvePrivateKey,
    nonce: str | None,
    *,
    aud: str = ISSUER,
    iat: int | None = None,
    typ: str = "openid4vci-proof+jwt",
    jwk: dict[str, str] | None = None,
) -> str:
    payload: dict[str, Any] = {"aud": aud, "iat": int(time.time()) if iat is None else iat}
    if nonce is not None:
        payload["nonce"] = nonce
    return jws(key, {"typ": typ, "jwk": jwk or public_jwk(key)}, payload)


def ref_of(offer_link: str) -> str:
    """The credential_offer_uri's path from an ``openid-credential-offer://`` link."""
    uri = parse_qs(urlsplit(offer_link).query)["credential_offer_uri"][0]
    return urlsplit(uri).path


@dataclass
class Wallet:
    client: httpx.AsyncClient
    dpop_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    #: The credential issuer identifier (the server's public base URL).
    issuer: str = ISSUER

    def dpop(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        jti: str | None = None,
        iat: int | None = None,
        key: ec.EllipticCurvePrivateKey | None = None,
    ) -> str:
        claims: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time()) if iat is None else iat,
        }
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        signer = key or self.dpop_key
        return jws(signer, {"typ": "dpop+jwt", "jwk": public_jwk(signer)}, claims)

    async def offer(self, offer_link: str) -> dict[str, Any]:
        r = await self.client.get(ref_of(offer_link))
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def token(self, code: str, tx_code: str | None, *, dpop: str | None = None) -> httpx.Response:
        form = {"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code}
        if tx_code is not None:
            form["tx_code"] = tx_code
        headers = {"DPoP": dpop or self.dpop("POST", f"{self.issuer}/openid4vci/token")}
        return await self.client.post("/openid4vci/token", data=form, headers=headers)

    async def nonce(self) -> str:
        r = await self.client.post("/openid4vci/nonce")
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.text
        return str(r.json()["c_nonce"])

    async def credential(self, access_token: str, body: dict[str, Any], *, dpop: str | None = None) -> httpx.Response:
        headers = {
            "Authorization": f"DPoP {access_token}",
            "DPoP": dpop or self.dpop("POST", f"{self.issuer}/openid4vci/credential", access_token=access_token),
        }
        return await self.client.post("/openid4vci/credential", json=body, headers=headers)

    async def redeem(self, offer_link: str, tx_code: str) -> dict[str, Any]:
        """Offer → token: the token response."""
        offer = await self.offer(offer_link)
        code = offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"]
        r = await self.token(code, tx_code)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def batch(
        self, access_token: str, document_id: str, count: int
    ) -> tuple[list[ec.EllipticCurvePrivateKey], httpx.Response]:
        keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(count)]
        nonce = await self.nonce()
        body = {
            "credential_identifier": document_id,
            "proofs": {"jwt": [key_proof(k, nonce, aud=self.issuer) for k in keys]},
        }
        return keys, await self.credential(access_token, body)
