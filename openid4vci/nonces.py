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

from wallet_api.kernel import LuaScript

__all__ = ["give_back_allowance", "issue_nonce", "spend_nonces", "take_allowance"]


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


# KEYS[1]: the count. ARGV: how many wanted, the most allowed, seconds to keep the count.
# Adds them and returns 1 if the total stays within the most; else adds nothing, returns 0.
_TAKE = LuaScript("""
local total = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1])
if total > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], total, 'EX', ARGV[3])
return 1
""")


def _allowance_key(token_id: str, identifier: str) -> str:
    return "vci:token-credentials:" + hashlib.sha256(f"{token_id}:{identifier}".encode()).hexdigest()


async def take_allowance(
    redis: aioredis.Redis, token_id: str, identifier: str, count: int, most: int, ttl: int
) -> bool:
    """Count ``count`` credentials of ``identifier`` fetched with one access token; False past ``most``.

    One offer gives one token (its code is single use), so this bounds what an offer can
    mint: at most a batch per credential identifier, however many nonces the wallet fetches.
    A count lost with Redis only lets the token fetch again until it expires (minutes).
    """
    return bool(int(await _TAKE(redis, (_allowance_key(token_id, identifier),), count, most, max(ttl, 1))))


async def give_back_allowance(redis: aioredis.Redis, token_id: str, identifier: str, count: int) -> None:
    """Undo :func:`take_allowance` for a request that issued nothing after all."""
    await redis.decrby(_allowance_key(token_id, identifier), count)
