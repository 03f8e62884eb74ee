"""A third-party wallet as the tests play it over HTTP: PKCE, DPoP proofs, wallet attestation.

The node scripts in tests/interop drive the same flow with an independent library; this one
makes the malformed and hostile variants the refusals are tested with.
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

from tests.support.signing import jws
from wallet_api.keys.provider import public_jwk

__all__ = ["ISSUER", "REDIRECT_URI", "Provider", "Wallet", "jws", "query_of"]

ISSUER = "http://testserver"
REDIRECT_URI = "https://wallet.example/callback"


@dataclass
class Provider:
    """A wallet provider: its signing key, published to the issuer as a JWKS."""

    kid: str = "provider-1"
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    @property
    def jwks(self) -> str:
        return json.dumps({"keys": [{**public_jwk(self.key.public_key()), "kid": self.kid}]})

    def attest(self, client_id: str, instance: ec.EllipticCurvePrivateKey, **over: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://provider.example",
            "sub": client_id,
            "iat": now,
            "exp": now + 3600,
            "wallet_name": "Ví Mẫu",
            "cnf": {"jwk": public_jwk(instance.public_key())},
            **over,
        }
        return jws(self.key, {"typ": "oauth-client-attestation+jwt", "kid": self.kid}, claims)


@dataclass
class Wallet:
    """One wallet instance: its client_id, instance key (attestation), DPoP key and PKCE verifier."""

    client_id: str = "https://wallet.example"
    instance: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    dpop_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    attestation: str | None = None

    @property
    def challenge(self) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()

    def pop(self, **over: Any) -> str:
        claims = {"iss": self.client_id, "aud": ISSUER, "iat": int(time.time()), "jti": secrets.token_urlsafe(16)}
        return jws(self.instance, {"typ": "oauth-client-attestation-pop+jwt"}, {**claims, **over})

    def dpop(self, method: str, url: str, key: ec.EllipticCurvePrivateKey | None = None) -> str:
        key = key or self.dpop_key
        claims = {"htm": method, "htu": url, "iat": int(time.time()), "jti": secrets.token_urlsafe(16)}
        return jws(key, {"typ": "dpop+jwt", "jwk": public_jwk(key.public_key())}, claims)

    def auth_headers(self) -> dict[str, str]:
        if self.attestation is None:
            return {}
        return {"OAuth-Client-Attestation": self.attestation, "OAuth-Client-Attestation-PoP": self.pop()}

    def par_form(self, **over: Any) -> dict[str, str]:
        form = {
            "client_id": self.client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            "state": "st-" + secrets.token_hex(4),
            "authorization_details": json.dumps(
                [{"type": "openid_credential", "credential_configuration_id": "driving_licence_sd_jwt"}]
            ),
        }
        form.update(over)
        return {k: v for k, v in form.items() if v is not None}

    async def push(
        self, client: httpx.AsyncClient, *, headers: dict[str, str] | None = None, **over: Any
    ) -> httpx.Response:
        sent = {"DPoP": self.dpop("POST", f"{ISSUER}/openid4vci/par"), **self.auth_headers(), **(headers or {})}
        return await client.post("/openid4vci/par", data=self.par_form(**over), headers=sent)

    async def token(
        self, client: httpx.AsyncClient, code: str, *, headers: dict[str, str] | None = None, **over: Any
    ) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": self.verifier,
            "redirect_uri": REDIRECT_URI,
            "client_id": self.client_id,
            **over,
        }
        sent = {"DPoP": self.dpop("POST", f"{ISSUER}/openid4vci/token"), **self.auth_headers(), **(headers or {})}
        return await client.post(
            "/openid4vci/token", data={k: v for k, v in form.items() if v is not None}, headers=sent
        )


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
