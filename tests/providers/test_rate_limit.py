"""The per-provider token bucket: shared through Redis, local and conservative without it."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from payments.providers import ProviderRateLimited
from payments.providers.ratelimit import ProviderRateLimiter


def _limiter(redis: aioredis.Redis, code: str, **kw: float) -> ProviderRateLimiter:
    options = {"rate": 1.0, "burst": 3, "max_wait": 0.0, "fallback_share": 0.5, **kw}
    return ProviderRateLimiter(redis, code, **options)  # type: ignore[arg-type]


async def test_every_process_draws_from_one_bucket(redis: aioredis.Redis, settings: object) -> None:
    code = f"p{uuid.uuid4().hex[:8]}"
    other_process = aioredis.from_url(settings.redis_url)  # type: ignore[attr-defined]
    try:
        first, second = _limiter(redis, code), _limiter(other_process, code)
        await first.acquire()
        await second.acquire()
        await first.acquire()
        with pytest.raises(ProviderRateLimited) as err:
            await second.acquire()
        assert 0 < err.value.retry_after <= 1.5
    finally:
        await other_process.aclose()


async def test_a_caller_waits_for_a_token_within_its_budget(redis: aioredis.Redis) -> None:
    limiter = _limiter(redis, f"p{uuid.uuid4().hex[:8]}", rate=20.0, burst=1, max_wait=1.0)
    await limiter.acquire()
    await limiter.acquire()  # waits ~50 ms for the next token instead of failing


async def test_buckets_are_per_provider(redis: aioredis.Redis) -> None:
    a, b = _limiter(redis, f"a{uuid.uuid4().hex[:8]}", burst=1), _limiter(redis, f"b{uuid.uuid4().hex[:8]}", burst=1)
    await a.acquire()
    await b.acquire()
    with pytest.raises(ProviderRateLimited):
        await a.acquire()


async def test_without_redis_a_conservative_local_limit_applies() -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2, socket_timeout=0.2)
    try:
        limiter = _limiter(dead, "momo", rate=1.0, burst=4, fallback_share=0.5)
        await limiter.acquire()
        await limiter.acquire()
        assert limiter.degraded
        # The local bucket holds half the burst: the third request in a row must wait.
        with pytest.raises(ProviderRateLimited):
            await limiter.acquire()
    finally:
        await dead.aclose()
