"""Issuer signing keys: one active ES256 key per issuing organisation, rotated in place.

Keys live in the foundation's key provider (purpose ``issuer``, owner = organisation id).
A rotated key keeps being published until the last credential it signed has expired:
``settle_retired_keys`` sets each retired key's ``publish_until`` from the credentials that
name its ``kid`` (never, while one of them has no expiry), with a floor that covers offline
QR payloads and status-list tokens signed just before the rotation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric import ec

from wallet_api.kernel import DatabaseKeyProvider, KeyRequirement, SigningKey, ec_public_key

__all__ = [
    "ISSUER_KEYS",
    "ISSUER_KEY_PURPOSE",
    "IssuerKey",
    "current_signing_key",
    "issuer_signing_key",
    "lookup_issuer_key",
    "lookup_issuer_key_prefix",
    "rotate_issuer_key",
    "settle_retired_keys",
]

ISSUER_KEY_PURPOSE = "issuer"
#: A retired key stays published at least this long (offline QR ≤ 24 h, status tokens ≤ 24 h).
_MIN_GRACE = "25 hours"
#: Every issuing organisation has a published key from the start, not from its first signature.
ISSUER_KEYS = KeyRequirement(ISSUER_KEY_PURPOSE, "SELECT id FROM organisations WHERE kind = 'issuer'")


@dataclass(frozen=True, slots=True)
class IssuerKey:
    kid: str
    org_id: str
    jwk: dict[str, Any]
    public_key: ec.EllipticCurvePublicKey


async def issuer_signing_key(pool: asyncpg.Pool, provider: DatabaseKeyProvider, org_id: str) -> SigningKey:
    """The organisation's active key, re-read if another process rotated it."""
    return await current_signing_key(pool, provider, ISSUER_KEY_PURPOSE, org_id)


async def current_signing_key(
    pool: asyncpg.Pool, provider: DatabaseKeyProvider, purpose: str, owner: str
) -> SigningKey:
    """The owner's active key for ``purpose``, re-read if another process rotated it (the
    provider trusts its cache for a few seconds)."""
    key = await provider.active_key(purpose, owner)
    current = await pool.fetchval(
        "SELECT kid FROM signing_keys WHERE purpose = $1 AND owner = $2 AND active", purpose, owner
    )
    if current is not None and current != key.kid:
        provider.forget_cached()
        key = await provider.active_key(purpose, owner)
    return key


_cache: dict[str, tuple[float, IssuerKey | None]] = {}
_CACHE_SECONDS = 30.0


async def lookup_issuer_key(pool: asyncpg.Pool, kid: str) -> IssuerKey | None:
    """A published issuer key by ``kid`` (None: unknown, or no longer published).

    Answers are cached for a few seconds per process, negative ones too, so a flood of
    forged kids does not become a flood of queries.
    """
    now = time.monotonic()
    hit = _cache.get(kid)
    if hit is not None and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    row = await pool.fetchrow(
        """SELECT kid, owner, public_jwk FROM signing_keys
           WHERE kid = $1 AND purpose = $2 AND (active OR publish_until IS NULL OR publish_until > now())""",
        kid,
        ISSUER_KEY_PURPOSE,
    )
    found = (
        IssuerKey(
            kid=row["kid"], org_id=row["owner"], jwk=row["public_jwk"], public_key=ec_public_key(row["public_jwk"])
        )
        if row is not None and row["owner"]
        else None
    )
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[kid] = (now, found)
    return found


async def lookup_issuer_key_prefix(pool: asyncpg.Pool, prefix: str) -> IssuerKey | None:
    """A published issuer key whose ``kid`` starts with ``prefix`` (offline QR codes carry 12 characters)."""
    if len(prefix) != 12:
        return None
    now = time.monotonic()
    hit = _cache.get("prefix:" + prefix)
    if hit is not None and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    kid = await pool.fetchval(
        """SELECT kid FROM signing_keys
           WHERE left(kid, 12) = $1 AND purpose = $2 AND (active OR publish_until IS NULL OR publish_until > now())
           ORDER BY created_at DESC LIMIT 1""",
        prefix,
        ISSUER_KEY_PURPOSE,
    )
    found = await lookup_issuer_key(pool, kid) if kid is not None else None
    _cache["prefix:" + prefix] = (now, found)
    return found


def forget_cached_keys() -> None:
    _cache.clear()


async def rotate_issuer_key(pool: asyncpg.Pool, provider: DatabaseKeyProvider, org_id: str) -> SigningKey:
    """Make a new active key for ``org_id``; the old one stays published as long as needed."""
    key = await provider.rotate(ISSUER_KEY_PURPOSE, org_id)
    async with pool.acquire() as conn:
        await settle_retired_keys(conn)
    forget_cached_keys()
    return key


async def settle_retired_keys(conn: asyncpg.Connection) -> int:
    """Recompute how long each retired issuer key must stay published; returns rows changed."""
    result = await conn.execute(
        f"""
        UPDATE signing_keys k
        SET publish_until = CASE
            WHEN EXISTS (SELECT 1 FROM credentials c WHERE c.kid = k.kid AND c.expires_at IS NULL) THEN NULL
            ELSE greatest(k.retired_at + interval '{_MIN_GRACE}',
                          (SELECT max(c.expires_at) FROM credentials c WHERE c.kid = k.kid))
        END
        WHERE k.purpose = $1 AND NOT k.active
          AND k.publish_until IS DISTINCT FROM CASE
            WHEN EXISTS (SELECT 1 FROM credentials c WHERE c.kid = k.kid AND c.expires_at IS NULL) THEN NULL
            ELSE greatest(k.retired_at + interval '{_MIN_GRACE}',
                          (SELECT max(c.expires_at) FROM credentials c WHERE c.kid = k.kid))
        END""",
        ISSUER_KEY_PURPOSE,
    )
    return int(result.split()[-1])
