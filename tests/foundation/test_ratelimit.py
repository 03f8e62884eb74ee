"""Rate limits (wallet_api/ratelimit.py): one interface over plain windows, leased per-minute
blocks (never exceeded, however many processes share them) and lockouts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import RedisError

from wallet_api.accounts.ratelimit import Lockout
from wallet_api.problems import TooManyRequests
from wallet_api.ratelimit import FixedWindow, LeasedWindowLimiter, RateLimit, enforce
from wallet_api.redis_client import create_redis


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


# --- one interface: plain windows (the limits library), leased blocks, lockouts ------------


def _limits() -> list[RateLimit]:
    return [FixedWindow("test:fixed", 3, 60), LeasedWindowLimiter("test:leased", 3), Lockout("test", 1, 60, 30, 60)]


@pytest.fixture
async def clean(redis: aioredis.Redis, app: Any) -> aioredis.Redis:
    await redis.flushdb()  # (the app, started, has set the secret that names lockout keys)
    return redis


async def test_every_limit_answers_the_same_question_through_one_interface(clean: aioredis.Redis) -> None:
    fixed, leased, lockout = _limits()
    assert [await fixed.acquire(clean, "a") for _ in range(3)] == [0, 0, 0]
    assert 1 <= await fixed.acquire(clean, "a") <= 60  # the seconds left in the window
    assert await fixed.acquire(clean, "b") == 0  # subjects are counted apart
    assert [await leased.acquire(clean, "a") for _ in range(3)] == [0, 0, 0]
    assert 1 <= await leased.acquire(clean, "a") <= 60  # the seconds left in the minute
    assert await lockout.acquire(clean, "subject", "source") == 0  # a lockout counts failures
    assert isinstance(lockout, Lockout) and await lockout.failure(clean, "subject", "source") == 30
    assert 1 <= await lockout.acquire(clean, "subject", "source") <= 30


async def test_a_refused_call_is_a_429_with_retry_after(clean: aioredis.Redis) -> None:
    limit = FixedWindow("test:fixed", 1, 60)
    await enforce(limit, clean, "a")
    with pytest.raises(TooManyRequests) as refused:
        await enforce(limit, clean, "a", detail="Slow down.")
    assert refused.value.status == 429 and 1 <= int(refused.value.headers["Retry-After"]) <= 60


async def test_a_plain_window_counts_in_redis_shared_by_every_process(clean: aioredis.Redis, settings: Any) -> None:
    # Two "processes": two clients with pools of their own, as two API processes have.
    other = create_redis(settings.redis_url)
    try:
        limit = FixedWindow("test:fixed", 4, 60)
        allowed = [await limit.acquire(r, "a") == 0 for r in (clean, other, clean, other, clean, other)]
        assert allowed == [True, True, True, True, False, False]
    finally:
        await other.aclose()


async def test_without_redis_a_plain_window_fails_the_call_and_a_leased_one_counts_alone() -> None:
    broken = aioredis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    try:
        with pytest.raises(RedisError):
            await FixedWindow("test:fixed", 3, 60).acquire(broken, "a")
        leased = LeasedWindowLimiter("test:leased", 1)
        assert [await leased.acquire(broken, "a") == 0 for _ in range(2)] == [True, False]
    finally:
        await broken.aclose()
