"""Per-minute limits shared by every process, counted in Redis and leased out in blocks.

A limit such as "verifications per verifier per minute" must hold across all API
processes, so the count lives in Redis; asking Redis on every request, though, costs a
round trip on the hottest routes. Instead each process takes a small block of the
minute's allowance at once (one ``INCRBY``) and spends it locally. A block taken counts
as used, so the processes together can never exceed the limit; the price is that a
process may sit on a few unused calls near the end of a minute. Blocks are a fiftieth of
the limit (at most 50), so small limits are still counted one by one.

If Redis cannot be reached the limiter counts per process instead: the limit then holds
per process rather than overall, and the route keeps working (Redis may be lost).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from wallet_api.redis_client import LuaScript

__all__ = ["LeasedWindowLimiter"]

# KEYS[1]: the minute's counter. ARGV[1]: block wanted, ARGV[2]: the limit.
# Returns how many calls of the block are granted (0 when the minute is used up).
_LEASE = LuaScript("""
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], 61) end
local over = total - tonumber(ARGV[2])
if over <= 0 then return tonumber(ARGV[1]) end
if over >= tonumber(ARGV[1]) then return 0 end
return tonumber(ARGV[1]) - over
""")

_MAX_LOCAL_KEYS = 10_000


class LeasedWindowLimiter:
    def __init__(self, prefix: str, limit_per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.prefix = prefix
        self.clock = clock
        self.limit = limit_per_minute
        self.block = max(1, min(50, limit_per_minute // 50))
        self._leased: dict[str, int] = {}  # key of a minute -> calls still held by this process
        self._fallback: dict[str, int] = {}  # key of a minute -> calls made while Redis was away
        self._inflight: dict[str, asyncio.Future[bool]] = {}

    def key(self, subject: str, now: float | None = None) -> str:
        return f"{self.prefix}:{subject}:{int(now if now is not None else self.clock()) // 60}"

    @staticmethod
    def retry_after(now: float | None = None) -> int:
        return 60 - int(now if now is not None else time.time()) % 60

    async def allow(self, redis: aioredis.Redis, subject: str) -> bool:
        """Count one call for ``subject``; False once the minute's limit is used up."""
        key = self.key(subject)
        while True:
            if self._take(key):
                return True
            if self._leased.get(key, 0) < 0:
                return False  # this minute is used up: no need to ask again
            # One lease in flight per key: callers that find the block spent wait for it
            # rather than each asking Redis (a stampede that would strand blocks).
            lease = self._inflight.get(key)
            if lease is None:
                lease = self._inflight[key] = asyncio.ensure_future(self._lease(redis, key))
                lease.add_done_callback(lambda _: self._inflight.pop(key, None))
            if not await asyncio.shield(lease):
                return self._count_locally(key)

    async def _lease(self, redis: aioredis.Redis, key: str) -> bool:
        """Take a block from Redis; False if Redis could not be asked."""
        try:
            granted = int(await _LEASE(redis, (key,), self.block, self.limit))
        except RedisError:
            return False
        if len(self._leased) > _MAX_LOCAL_KEYS:
            self._leased.clear()
        self._leased[key] = self._leased.get(key, 0) + granted if granted > 0 else -1
        return True

    def _take(self, key: str) -> bool:
        held = self._leased.get(key, 0)
        if held > 0:
            self._leased[key] = held - 1
            return True
        return False

    def _count_locally(self, key: str) -> bool:
        if len(self._fallback) > _MAX_LOCAL_KEYS:
            self._fallback.clear()
        count = self._fallback[key] = self._fallback.get(key, 0) + 1
        return count <= self.limit
