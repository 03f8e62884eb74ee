"""Server nonces (``c_nonce``) for key proofs: unpredictable, short-lived, single use.

Redis keeps only a digest of each live nonce, with its lifetime as the key's TTL: a nonce
lost with Redis costs the wallet one more call of the nonce endpoint, which is why Redis may
hold it. A credential request spends its proofs' nonces with one ``DEL``: whoever deletes a
key first used it; a second request with the same nonce finds it gone.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection

import redis.asyncio as aioredis

__all__ = ["issue_nonce", "spend_nonces"]


def _key(nonce: str) -> str:
    return "vci:c-nonce:" + hashlib.sha256(nonce.encode()).hexdigest()


async def issue_nonce(redis: aioredis.Redis, ttl_seconds: int) -> str:
    nonce = secrets.token_urlsafe(24)
    await redis.set(_key(nonce), b"1", ex=ttl_seconds)
    return nonce


async def spend_nonces(redis: aioredis.Redis, nonces: Collection[str]) -> bool:
    """Spend every nonce; False if any was never issued, has expired or was spent before."""
    async with redis.pipeline(transaction=False) as pipe:
        for nonce in nonces:
            pipe.delete(_key(nonce))
        deleted = await pipe.execute()
    return all(int(n) == 1 for n in deleted)
