"""Leased per-minute limits (wallet_api/ratelimit.py): never exceeded, however many processes share them."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallet_api.ratelimit import LeasedWindowLimiter


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(1, 400), processes=st.integers(1, 6), calls=st.integers(0, 900), seed=st.randoms())
async def test_processes_together_never_exceed_the_limit(
    redis: aioredis.Redis, limit: int, processes: int, calls: int, seed: Any
) -> None:
    await redis.flushdb()
    # A fixed clock: a run that crossed a minute would rightly allow a second minute's calls.
    limiters = [LeasedWindowLimiter("test:rl", limit, clock=lambda: 1_800_000_000.0) for _ in range(processes)]
    # Calls arrive at random processes, concurrently.
    picks = [limiters[seed.randrange(processes)] for _ in range(calls)]
    allowed = await asyncio.gather(*(lim.allow(redis, "client:x") for lim in picks))
    assert sum(allowed) <= limit
    if processes == 1:
        assert sum(allowed) == min(calls, limit)  # one process wastes nothing


async def test_subjects_and_minutes_are_counted_apart(redis: aioredis.Redis) -> None:
    lim = LeasedWindowLimiter("test:rl", 2, clock=lambda: 1_800_000_000.0)
    assert [await lim.allow(redis, "a") for _ in range(3)] == [True, True, False]
    assert await lim.allow(redis, "b")
    assert lim.key("a", now=120.0) != lim.key("a", now=180.0)
    assert 1 <= LeasedWindowLimiter.retry_after() <= 60


async def test_without_redis_each_process_counts_alone(servers: Any, redis: aioredis.Redis) -> None:
    lim = LeasedWindowLimiter("test:rl", 3)
    broken = aioredis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    try:
        assert [await lim.allow(broken, "a") for _ in range(4)] == [True, True, True, False]
    finally:
        await broken.aclose()
