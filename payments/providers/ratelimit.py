"""Per-provider request rate limits, shared by every API and worker process.

A token bucket per provider lives in Redis and is updated by one Lua script (atomic,
Redis's clock). Redis holds only what may be lost: if it is unreachable, each process
falls back to a local bucket allowing a conservative share of the provider's rate, so a
Redis outage slows payouts and links down instead of stopping them or flooding the provider.
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from payments.providers.base import ProviderRateLimited
from wallet_api.kernel import LuaScript

__all__ = ["LocalTokenBucket", "ProviderRateLimiter"]

log = logging.getLogger(__name__)

_TOKEN_BUCKET = LuaScript.beside(__file__, "token_bucket.lua")
_KEY = "ratelimit:provider:{code}"


class LocalTokenBucket:
    """An in-process token bucket (the fallback when Redis is down)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._ts = time.monotonic()

    def take(self, wanted: float = 1.0) -> float:
        """Take ``wanted`` tokens and return 0, or return seconds until they would be there."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._ts) * self.rate)
        self._ts = now
        if self._tokens >= wanted:
            self._tokens -= wanted
            return 0.0
        return (wanted - self._tokens) / self.rate


class ProviderRateLimiter:
    """Waits for a token before each request to one provider."""

    def __init__(
        self,
        redis: aioredis.Redis,
        code: str,
        *,
        rate: float,
        burst: int,
        max_wait: float,
        fallback_share: float,
    ) -> None:
        self._redis = redis
        self._key = _KEY.format(code=code)
        self._code = code
        self._rate = rate
        self._burst = burst
        self._max_wait = max_wait
        fallback_rate = max(rate * fallback_share, 0.1)
        self._local = LocalTokenBucket(fallback_rate, max(1.0, burst * fallback_share))
        self._degraded_since: float | None = None

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and the local fallback limit applies."""
        return self._degraded_since is not None

    async def _ask(self, wanted: int) -> float:
        try:
            wait_ms = await _TOKEN_BUCKET(self._redis, (self._key,), self._rate, self._burst, wanted)
        except (RedisError, OSError) as exc:
            if self._degraded_since is None:
                self._degraded_since = time.monotonic()
                log.warning(
                    "provider rate limit degraded to local bucket",
                    extra={"provider": self._code, "error": type(exc).__name__},
                )
            return self._local.take(wanted)
        if self._degraded_since is not None:
            log.info("provider rate limit back on Redis", extra={"provider": self._code})
            self._degraded_since = None
        return float(wait_ms) / 1000.0

    async def acquire(self, wanted: int = 1) -> None:
        """Wait until ``wanted`` requests may go; ProviderRateLimited if that takes too long."""
        deadline = time.monotonic() + self._max_wait
        while True:
            wait = await self._ask(wanted)
            if wait <= 0:
                return
            remaining = deadline - time.monotonic()
            if wait > remaining:
                raise ProviderRateLimited(retry_after=max(wait, 0.05))
            await asyncio.sleep(wait)
