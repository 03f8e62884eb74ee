"""Per-provider call rate shared by every worker: a one-second window counter in Redis.

Redis holds only what may be lost. If it is unreachable each process falls back to its
own window at the full rate; the provider's own 429 (which means "nothing was done" and
puts the payments back in the queue) is the backstop against exceeding its limit.
"""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["ProviderRateLimit"]


class ProviderRateLimit:
    def __init__(self, redis: aioredis.Redis, per_second: int) -> None:
        self._redis = redis
        self._per_second = max(1, per_second)
        self._local: dict[str, tuple[int, int]] = {}

    async def acquire(self, provider: str) -> None:
        """Wait until one more call to ``provider`` fits in the current second."""
        while True:
            now = time.time()
            second = int(now)
            used = await self._count(provider, second)
            if used <= self._per_second:
                return
            await asyncio.sleep(second + 1 - now + 0.001)

    async def _count(self, provider: str, second: int) -> int:
        key = f"ratelimit:payout:{provider}:{second}"
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, 3)
            used, _ = await pipe.execute()
            return int(used)
        except (RedisError, OSError):
            window, used = self._local.get(provider, (second, 0))
            used = used + 1 if window == second else 1
            self._local[provider] = (second, used)
            return used
