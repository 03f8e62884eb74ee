"""Access tokens: short-lived ES256 JWTs with a ``kid``, verified against our published keys.

Only ES256 is accepted, ``kid`` must name one of our token keys, and ``aud``/``iss``/``exp``
are required, so ``alg: none``, HS256-with-the-public-key and foreign keys all fail.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from functools import lru_cache
from typing import Any

import jwt
import msgspec
from jwt.algorithms import ECAlgorithm

from wallet_api.auth.principal import Principal, PrincipalKind
from wallet_api.keys.provider import DatabaseKeyProvider, SigningKey, b64url

__all__ = ["TOKEN_AUDIENCE", "TOKEN_KEY_PURPOSE", "InvalidToken", "TokenService"]

TOKEN_KEY_PURPOSE = "access-token"
TOKEN_AUDIENCE = "citizen-wallet-api"
_KINDS: tuple[PrincipalKind, ...] = ("citizen", "officer", "client")
_VERIFIED_CACHE_SIZE = 20_000
#: Our kids are RFC 7638 thumbprints (base64url); anything else is refused before a lookup.
_KID = re.compile(r"[A-Za-z0-9_-]{1,128}")


# Tokens are signed here rather than by ``jwt.encode``: the same compact JWS (RFC 7515,
# ES256 raw r||s, by ``SigningKey.sign_es256``), without pyjwt's per-call header merging,
# JSON and DER conversions; the header segment depends only on the key id. Half the CPU of
# ``jwt.encode`` (64 -> 35 µs on the development machine); verification stays with pyjwt.
@lru_cache(maxsize=64)
def _jws_header(kid: str) -> str:
    return b64url(json.dumps({"alg": "ES256", "kid": kid, "typ": "at+jwt"}, separators=(",", ":")).encode())


def _sign_jws(key: SigningKey, claims: dict[str, Any]) -> str:
    signing_input = f"{_jws_header(key.kid)}.{b64url(msgspec.json.encode(claims))}"
    return f"{signing_input}.{b64url(key.sign_es256(signing_input.encode('ascii')))}"


class InvalidToken(Exception):
    """The bearer token is malformed, forged, expired or not for us."""


class TokenService:
    def __init__(self, keys: DatabaseKeyProvider, *, issuer: str, ttl_seconds: int) -> None:
        self._keys = keys
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds
        self._verifying: dict[str, Any] = {}
        self._unknown_kids: dict[str, float] = {}
        # Tokens this process has already verified, until they expire: an app or a verifier
        # system sends the same token with every request for its whole lifetime, and an
        # ES256 check costs more than the rest of the authentication. Only exact strings
        # that passed every check are kept, so a hit is the same verdict recomputed.
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def issue(self, principal: Principal, *, ttl_seconds: int | None = None) -> tuple[str, int]:
        """Sign an access token for ``principal``; returns (token, expires_in)."""
        key = await self._keys.active_key(TOKEN_KEY_PURPOSE)
        now = int(time.time())
        ttl = ttl_seconds or self.ttl_seconds
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": TOKEN_AUDIENCE,
            "sub": principal.subject,
            "knd": principal.kind,
            "iat": now,
            "nbf": now - 5,
            "exp": now + ttl,
            "jti": principal.token_id or uuid.uuid4().hex,
        }
        if principal.org_id:
            claims["org"] = principal.org_id
        if principal.roles:
            claims["roles"] = sorted(principal.roles)
        if principal.scopes:
            claims["scope"] = " ".join(sorted(principal.scopes))
        if principal.kind == "citizen":
            claims["lvl"] = principal.level
            claims["dev"] = principal.device_id
            claims["auth_time"] = principal.auth_time or now
        return _sign_jws(key, claims), ttl

    async def _verifying_key(self, kid: str) -> Any:
        key = self._verifying.get(kid)
        if key is not None:
            return key
        # Unknown kids are looked up at most once a second each: a flood of forged kids
        # must not become a flood of database queries.
        last = self._unknown_kids.get(kid, 0.0)
        if time.monotonic() - last < 1.0:
            raise InvalidToken("unknown key")
        found = await self._keys.public_key(kid)
        if found is None or found[1] != TOKEN_KEY_PURPOSE:
            if len(self._unknown_kids) > 10_000:
                self._unknown_kids.clear()
            self._unknown_kids[kid] = time.monotonic()
            raise InvalidToken("unknown key")
        key = ECAlgorithm.from_jwk(found[0])
        self._verifying[kid] = key
        return key

    async def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None:
            if time.time() < hit[1]:
                return hit[0]
            del self._verified[token]
        principal, expires_at = await self._verify_signed(token)
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            # Drop the oldest entry (dicts keep insertion order): bounded memory under any load.
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, expires_at)
        return principal

    async def _verify_signed(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != "ES256":
            raise InvalidToken("unsupported algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise InvalidToken("missing or malformed key id")
        key = await self._verifying_key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["ES256"],
                audience=TOKEN_AUDIENCE,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "jti"]},
                leeway=5,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from exc
        kind = claims.get("knd")
        if kind not in _KINDS:
            raise InvalidToken("unknown principal kind")
        scope = claims.get("scope") or ""
        principal = Principal(
            kind=kind,
            subject=str(claims["sub"]),
            org_id=claims.get("org"),
            roles=frozenset(claims.get("roles") or ()),
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            level=int(claims.get("lvl") or 0),
            device_id=claims.get("dev"),
            token_id=str(claims["jti"]),
            auth_time=int(claims.get("auth_time") or 0),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
        )
        return principal, float(claims["exp"])
