"""Key provider interface and its PostgreSQL-backed implementation."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wallet_api.keys.jose import b64url_encode, raw_signature
from wallet_api.problems import ServiceUnavailable

#: Seconds a process trusts its cached active key before checking for a rotation.
_ACTIVE_KEY_TTL = 30.0

__all__ = [
    "DatabaseKeyProvider",
    "KeyProvider",
    "KeyRequirement",
    "KeyUnwrapError",
    "SigningKey",
    "jwk_thumbprint",
    "key_set_cache_control",
    "public_jwk",
]

log = logging.getLogger(__name__)


class KeyUnwrapError(ServiceUnavailable):
    """A stored private key does not decrypt under this process's ``WALLET_KEK``.

    The key was wrapped under another key-encryption key (a process started without the
    deployment's ``WALLET_KEK``). Nothing can sign with it until the right KEK is configured,
    and no new key is made under a KEK that cannot read the keys already stored.
    """

    slug, title = "signing-key-unavailable", "Signing key unavailable"
    #: What a command that was refused a new key tells its operator.
    refusal = (
        "refused: the stored signing keys do not decrypt under this WALLET_KEK, so a key made now "
        "could not be used by the running service. Run with the deployment's WALLET_KEK."
    )


#: Seconds verifiers may cache a complete key set (they refetch when they meet an unknown kid).
KEY_SET_MAX_AGE = 300


def key_set_cache_control(complete: bool) -> str:
    """``Cache-Control`` of a published key set: an empty or partial set must not be kept."""
    return f"public, max-age={KEY_SET_MAX_AGE}" if complete else "no-store"


@dataclass(frozen=True)
class KeyRequirement:
    """Keys that must exist and be published from the start, before their first signature."""

    purpose: str
    #: SQL listing the owners (one text column), one key each; None: one key without owner.
    owners_sql: str | None = None


#: ES256's signature algorithm; immutable, so made once rather than per signature (hot: every access token).
_ES256 = ec.ECDSA(hashes.SHA256())


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
    }


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of an EC public JWK."""
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    purpose: str
    owner: str | None
    public_jwk: dict[str, Any]
    private_key: ec.EllipticCurvePrivateKey
    created_at: datetime

    def sign_es256(self, data: bytes) -> bytes:
        """Raw R||S signature (JWS / COSE form)."""
        return raw_signature(self.private_key.sign(data, _ES256))


class KeyProvider(Protocol):
    async def active_key(self, purpose: str, owner: str | None = None) -> SigningKey: ...

    async def rotate(
        self, purpose: str, owner: str | None = None, *, publish_until: datetime | None = None
    ) -> SigningKey: ...

    async def ensure_published(self) -> bool: ...

    async def published_keys(self, purpose_prefix: str = "") -> list[dict[str, Any]]: ...


class DatabaseKeyProvider:
    """Keys in ``signing_keys``; decrypted private keys are cached in process memory only."""

    def __init__(self, pool: asyncpg.Pool, kek: bytes, required: Sequence[KeyRequirement] = ()) -> None:
        self._pool = pool
        self._aead = AESGCM(kek)
        self._required = tuple(required)
        # (key, monotonic time it was read): re-read after _ACTIVE_KEY_TTL so that a rotation
        # done by another process (``wallet keys rotate``) is picked up everywhere within it.
        self._active: dict[tuple[str, str | None], tuple[SigningKey, float]] = {}

    def _wrap(self, kid: str, key: ec.EllipticCurvePrivateKey) -> bytes:
        raw = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        nonce = os.urandom(12)
        # The kid is bound as associated data: a wrapped key copied onto another row fails.
        return nonce + self._aead.encrypt(nonce, raw, kid.encode())

    def _unwrap(self, kid: str, blob: bytes) -> ec.EllipticCurvePrivateKey:
        try:
            raw = self._aead.decrypt(blob[:12], blob[12:], kid.encode())
        except InvalidTag as exc:
            log.error("signing key does not decrypt under WALLET_KEK", extra={"kid": kid})
            raise KeyUnwrapError(
                "A signing key cannot be used: it was stored under another key-encryption key. "
                "The operator must run this service with the deployment's WALLET_KEK."
            ) from exc
        key = serialization.load_der_private_key(raw, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key

    def _row_to_key(self, row: asyncpg.Record) -> SigningKey:
        return SigningKey(
            kid=row["kid"],
            purpose=row["purpose"],
            owner=row["owner"],
            public_jwk=row["public_jwk"],
            private_key=self._unwrap(row["kid"], row["private_key_enc"]),
            created_at=row["created_at"],
        )

    async def active_key(self, purpose: str, owner: str | None = None) -> SigningKey:
        cached = self._active.get((purpose, owner))
        if cached is not None and time.monotonic() - cached[1] < _ACTIVE_KEY_TTL:
            return cached[0]
        row = await self._pool.fetchrow(
            "SELECT * FROM signing_keys WHERE purpose = $1 AND owner IS NOT DISTINCT FROM $2 AND active",
            purpose,
            owner,
        )
        if row is None:
            key = await self.rotate(purpose, owner, only_if_missing=True)
        elif cached is not None and cached[0].kid == row["kid"]:
            key = cached[0]  # unchanged: skip decrypting it again
        else:
            key = self._row_to_key(row)
        self._active[(purpose, owner)] = (key, time.monotonic())
        return key

    def forget_cached(self) -> None:
        """Drop cached keys so the next call re-reads the active key (after a rotation elsewhere)."""
        self._active.clear()

    async def rotate(
        self,
        purpose: str,
        owner: str | None = None,
        *,
        publish_until: datetime | None = None,
        only_if_missing: bool = False,
    ) -> SigningKey:
        """Create a new active key; the old one stays published until ``publish_until``.

        ``only_if_missing`` turns this into "create the first key" for processes that race
        at start-up: under the lock, an existing active key is returned instead.
        """
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = public_jwk(private.public_key())
        kid = jwk_thumbprint(jwk)
        jwk = {**jwk, "kid": kid, "alg": "ES256", "use": "sig"}
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('signing_keys:' || $1 || ':' || coalesce($2, '')))",
                purpose,
                owner,
            )
            # A key this deployment could not read back is never made: the newest stored key
            # must decrypt under our KEK (a command run without WALLET_KEK gets a fresh
            # development KEK, and every signature with its key would then fail).
            newest = await conn.fetchrow(
                "SELECT kid, private_key_enc FROM signing_keys ORDER BY created_at DESC, kid LIMIT 1"
            )
            if newest is not None:
                self._unwrap(newest["kid"], newest["private_key_enc"])
            if only_if_missing:
                existing = await conn.fetchrow(
                    "SELECT * FROM signing_keys WHERE purpose = $1 AND owner IS NOT DISTINCT FROM $2 AND active",
                    purpose,
                    owner,
                )
                if existing is not None:
                    return self._row_to_key(existing)
            await conn.execute(
                """UPDATE signing_keys SET active = false, retired_at = now(), publish_until = $3
                   WHERE purpose = $1 AND owner IS NOT DISTINCT FROM $2 AND active""",
                purpose,
                owner,
                publish_until,
            )
            row = await conn.fetchrow(
                """INSERT INTO signing_keys (kid, purpose, owner, public_jwk, private_key_enc)
                   VALUES ($1, $2, $3, $4, $5) RETURNING *""",
                kid,
                purpose,
                owner,
                jwk,
                self._wrap(kid, private),
            )
        key = self._row_to_key(row)
        self._active[(purpose, owner)] = (key, time.monotonic())
        return key

    async def missing_keys(self) -> list[tuple[str, str | None]]:
        """Required (purpose, owner) pairs that have no active key yet."""
        missing: list[tuple[str, str | None]] = []
        for req in self._required:
            if req.owners_sql is None:
                rows = await self._pool.fetch(
                    "SELECT NULL::text AS owner WHERE NOT EXISTS "
                    "(SELECT 1 FROM signing_keys WHERE purpose = $1 AND owner IS NULL AND active)",
                    req.purpose,
                )
            else:
                rows = await self._pool.fetch(
                    f"""SELECT o.owner FROM ({req.owners_sql}) AS o(owner)
                        WHERE NOT EXISTS (SELECT 1 FROM signing_keys k
                                          WHERE k.purpose = $1 AND k.owner = o.owner AND k.active)
                        ORDER BY o.owner""",
                    req.purpose,
                )
            missing.extend((req.purpose, r["owner"]) for r in rows)
        return missing

    async def ensure_published(self) -> bool:
        """Create every required key that is missing; False if one could not be made.

        Safe when many processes start at once: each creation takes the key's advisory lock
        and returns the key another process made meanwhile.
        """
        for purpose, owner in await self.missing_keys():
            try:
                await self.active_key(purpose, owner)
            except KeyUnwrapError:
                return False
        return True

    async def published_keys(self, purpose_prefix: str = "") -> list[dict[str, Any]]:
        """Public JWKs still needed by verifiers: the active ones and retired ones in their grace period."""
        rows = await self._pool.fetch(
            """SELECT public_jwk FROM signing_keys
               WHERE purpose LIKE $1 || '%' AND (active OR publish_until IS NULL OR publish_until > now())
               ORDER BY created_at""",
            purpose_prefix,
        )
        return [r["public_jwk"] for r in rows]

    async def public_key(self, kid: str) -> tuple[dict[str, Any], str, str | None] | None:
        row = await self._pool.fetchrow("SELECT public_jwk, purpose, owner FROM signing_keys WHERE kid = $1", kid)
        if row is None:
            return None
        return row["public_jwk"], row["purpose"], row["owner"]
