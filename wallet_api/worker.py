"""The background worker process: outbox consumers and periodic loops, until told to stop.

Any number of these run on any number of machines; they coordinate only through
PostgreSQL (row claims with leases) and never through process memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import asyncpg
import httpx

from wallet_api.db import create_pool
from wallet_api.outbox.consumers import Consumer, all_consumers
from wallet_api.outbox.dispatch import run_consumer_once
from wallet_api.redis_client import create_redis
from wallet_api.settings import Settings
from wallet_api.worker_context import WorkerContext

__all__ = ["BackgroundLoop", "run_worker"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackgroundLoop:
    """Periodic work that is not an outbox topic (payment dispatch, schedules, expiry)."""

    name: str
    #: Does one unit of work and returns how much it did; 0 means "idle, wait a bit".
    run_once: Callable[[WorkerContext], Awaitable[int]]
    idle_interval: float = 1.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def _listen(dsn: str, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """Wake consumers as soon as a transaction appends to the outbox."""
    while not stop.is_set():
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(dsn)
            await conn.add_listener("wallet_outbox", lambda *_: wake.set())
            await stop.wait()
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(1.0)  # polling continues meanwhile
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()


async def _consume(ctx: WorkerContext, consumer: Consumer, wake: asyncio.Event, stop: asyncio.Event) -> None:
    s = ctx.settings
    lease = consumer.lease_seconds or float(s.outbox_lease_seconds)
    while not stop.is_set():
        try:
            n = await run_consumer_once(
                ctx.pool, consumer, ctx, owner=ctx.worker_id, lease=lease, max_attempts=s.outbox_max_attempts
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("outbox claim failed", exc_info=exc, extra={"consumer": consumer.name})
            n = 0
            await asyncio.sleep(1.0)
        if n == 0:
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=1.0)


async def _loop(ctx: WorkerContext, loop: BackgroundLoop, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            n = await loop.run_once(ctx)
        except Exception as exc:  # one failing loop must not stop the others
            log.warning("background loop failed", exc_info=exc, extra={"worker": loop.name})
            n = 0
        if n == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=loop.idle_interval)


async def run_worker(
    settings: Settings,
    stop: asyncio.Event,
    *,
    consumers: Iterable[Consumer] | None = None,
    loops: Iterable[BackgroundLoop] | None = None,
) -> None:
    from wallet_api.domains import load_domains

    domains = load_domains()
    chosen_consumers = list(consumers) if consumers is not None else list(all_consumers().values())
    chosen_loops = list(loops) if loops is not None else [lp for d in domains for lp in d.loops]
    pool = await create_pool(settings.database_url, min_size=1, max_size=settings.db_pool_max)
    redis = create_redis(settings.redis_url, max_connections=settings.redis_pool_max)
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0), limits=httpx.Limits(max_connections=200))
    ctx = WorkerContext(settings=settings, pool=pool, redis=redis, http=http, worker_id=worker_id())
    wake = asyncio.Event()
    tasks = [asyncio.create_task(_listen(settings.database_url, wake, stop))]
    tasks += [asyncio.create_task(_consume(ctx, c, wake, stop)) for c in chosen_consumers]
    tasks += [asyncio.create_task(_loop(ctx, lp, stop)) for lp in chosen_loops]
    log.info("worker started", extra={"worker": ctx.worker_id, "count": len(tasks)})
    try:
        await stop.wait()
        # Let batches in flight finish and record their outcome (bounded by the lease).
        await asyncio.wait(tasks, timeout=float(settings.outbox_lease_seconds))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for closer in ctx.services.values():
            aclose = getattr(closer, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        await http.aclose()
        await redis.aclose()
        await pool.close()
        log.info("worker stopped", extra={"worker": ctx.worker_id})
