"""Rate limits: one interface, :class:`RateLimit`, and its implementations.

Every limit answers one question, "may one more call of this subject go now, and if not,
how long must it wait?", and every caller asks it the same way (:func:`enforce`, or
``acquire`` when the refusal is its own problem). The implementations:

* :class:`FixedWindow`: at most ``limit`` calls per ``window`` seconds, the window opening
  at the first call. Counted by the `limits` library (its fixed-window strategy and Redis
  storage) on redis-py's asyncio client over *our* connection pool, so it shares the
  process's connections, TLS and timeouts. If Redis cannot be reached the call fails
  with redis-py's error (503): these limits guard registration, recovery and sign-in
  helpers, where refusing is safer than counting nothing.
* :class:`LeasedWindowLimiter`: per-minute limits on the hottest routes, counted in Redis
  but leased to each process in blocks (below); without Redis each process counts alone.
* ``wallet_api.accounts.ratelimit.Lockout``: failures that lock a subject and a source,
  with backoff; its ``acquire`` reads the lock, and failures and successes are reported.

Scripts that count a limit *and* do their route's work in one round trip (the device
challenge, the online verification's burn) keep their count inside the script, on the
same keys a limit here would use.

Leased blocks: a limit such as "verifications per verifier per minute" must hold across all
API processes, so the count lives in Redis; asking Redis on every request, though, costs a
round trip on the hottest routes. Instead each process takes a small block of the minute's
allowance at once (one ``INCRBY``) and spends it locally. A block taken counts as used, so
the processes together can never exceed the limit; the price is that a process may sit on
a few unused calls near the end of a minute. Blocks are a fiftieth of the limit (at most
50), so small limits are still counted one by one.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError

from wallet_api.problems import TooManyRequests
from wallet_api.redis_client import LuaScript

__all__ = ["FixedWindow", "LeasedWindowLimiter", "RateLimit", "enforce"]


class RateLimit(Protocol):
    async def acquire(self, redis: aioredis.Redis, *subject: str) -> int:
        """Count one call of ``subject``: 0 when it may go, else the seconds it must wait (≥ 1)."""
        ...


async def enforce(
    limit: RateLimit, redis: aioredis.Redis, *subject: str, detail: str = "Too many attempts; try again later."
) -> None:
    """Count one call; 429 ``rate-limited`` with ``Retry-After`` when the limit refuses it."""
    wait = await limit.acquire(redis, *subject)
    if wait:
        raise TooManyRequests(detail, retry_after=wait)


# --- plain windows, by the limits library ------------------------------------------------


@functools.lru_cache(maxsize=16)
def _windows(pool: aioredis.ConnectionPool) -> FixedWindowRateLimiter:
    # One storage per connection pool (one per process): limits' redis-py bridge then uses
    # our pool rather than opening its own (it passes ``connection_pool`` to redis-py, though
    # its signature types the options as scalars). The URI only names the kind of storage.
    options: dict[str, Any] = {"connection_pool": pool}
    storage = RedisStorage("async+redis://", implementation="redispy", key_prefix="rl", **options)
    return FixedWindowRateLimiter(storage)


class FixedWindow:
    """At most ``limit`` calls of a subject per ``window`` seconds (a window opens at its first call)."""

    def __init__(self, name: str, limit: int, window: int) -> None:
        self.name = name
        self._item = RateLimitItemPerSecond(limit, window)

    async def acquire(self, redis: aioredis.Redis, *subject: str) -> int:
        windows = _windows(redis.connection_pool)
        if await windows.hit(self._item, self.name, *subject):
            return 0
        reset_at, _ = await windows.get_window_stats(self._item, self.name, *subject)
        return max(1, math.ceil(reset_at - time.time()))


# --- leased per-minute blocks ------------------------------------------------------------

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
    """At most ``limit_per_minute`` calls of a subject per clock minute, over every process."""

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

    async def acquire(self, redis: aioredis.Redis, *subject: str) -> int:
        return 0 if await self.allow(redis, ":".join(subject)) else self.retry_after()

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
