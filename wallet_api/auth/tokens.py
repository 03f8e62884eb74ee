"""Access tokens: short-lived ES256 JWTs with a ``kid``, verified against our published keys.

The token is read by the one JOSE module (``wallet_api/keys/jose.py``: strict base64url and
JSON, only ES256, no ``crit``, 64-byte signatures), ``kid`` must name one of our token keys,
and ``aud``/``iss``/``exp`` are required, so ``alg: none``, HS256-with-the-public-key and
foreign keys all fail.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from wallet_api.auth.principal import Principal, PrincipalKind
from wallet_api.keys.jose import JoseError, decode_compact, ec_public_key, es256_verify, sign_compact
from wallet_api.keys.provider import DatabaseKeyProvider

__all__ = ["TOKEN_AUDIENCE", "TOKEN_KEY_PURPOSE", "InvalidToken", "TokenService"]

TOKEN_KEY_PURPOSE = "access-token"
TOKEN_AUDIENCE = "citizen-wallet-api"
_KINDS: tuple[PrincipalKind, ...] = ("citizen", "officer", "client")
_VERIFIED_CACHE_SIZE = 20_000
#: Our kids are RFC 7638 thumbprints (base64url); anything else is refused before a lookup.
_KID = re.compile(r"[A-Za-z0-9_-]{1,128}")


_TYP = "at+jwt"
#: Seconds of clock difference tolerated between the processes that sign and verify.
_LEEWAY = 5
_REQUIRED = ("exp", "iat", "sub", "aud", "iss", "jti")


class InvalidToken(Exception):
    """The bearer token is malformed, forged, expired or not for us."""


class TokenService:
    def __init__(self, keys: DatabaseKeyProvider, *, issuer: str, ttl_seconds: int) -> None:
        self._keys = keys
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds
        self._verifying: dict[str, ec.EllipticCurvePublicKey] = {}
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
        return sign_compact(key, claims, typ=_TYP), ttl

    async def _verifying_key(self, kid: str) -> ec.EllipticCurvePublicKey:
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
        key = ec_public_key(found[0])
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
            jws = decode_compact(token)
        except JoseError as exc:
            raise InvalidToken(f"malformed token ({exc})") from exc
        kid = jws.header.get("kid")
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise InvalidToken("missing or malformed key id")
        key = await self._verifying_key(kid)
        if not es256_verify(key, jws.signature, jws.signing_input):
            raise InvalidToken("bad signature")
        claims = jws.payload
        self._check_claims(claims)
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

    def _check_claims(self, claims: dict[str, Any]) -> None:
        """The registered claims: all present, ours, and valid now (RFC 7519 section 4.1)."""
        if any(claims.get(name) is None for name in _REQUIRED):
            raise InvalidToken("a required claim is missing")
        if claims["iss"] != self.issuer:
            raise InvalidToken("another issuer")
        aud = claims["aud"]
        if not (aud == TOKEN_AUDIENCE or (isinstance(aud, list) and TOKEN_AUDIENCE in aud)):
            raise InvalidToken("another audience")
        if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
            raise InvalidToken("sub and jti must be strings")
        times = [claims["exp"], claims["iat"], claims.get("nbf", 0)]
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in times):
            raise InvalidToken("times must be integers")
        now = time.time()
        if claims["exp"] <= now - _LEEWAY:
            raise InvalidToken("expired")
        if claims["iat"] > now + _LEEWAY or times[2] > now + _LEEWAY:
            raise InvalidToken("not valid yet")
