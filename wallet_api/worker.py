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
from collections.abc import Iterable, Sequence

import asyncpg

from wallet_api.domains import Domain, load_domains
from wallet_api.outbox.consumers import Consumer
from wallet_api.outbox.dispatch import run_consumer_once
from wallet_api.services import Services, open_services
from wallet_api.settings import Settings
from wallet_api.worker_context import BackgroundLoop, WorkerContext

__all__ = ["open_worker_services", "run_worker", "run_workers"]

log = logging.getLogger(__name__)


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


def open_worker_services(
    settings: Settings, domains: Sequence[Domain]
) -> contextlib.AbstractAsyncContextManager[Services]:
    """A worker process's services, with the service factories its domains declare."""
    return open_services(
        settings,
        role="worker",
        factories=[f for d in domains for f in d.services],
        signing_keys=[k for d in domains for k in d.signing_keys],
    )


async def run_worker(
    settings: Settings,
    stop: asyncio.Event,
    *,
    consumers: Iterable[Consumer] | None = None,
    loops: Iterable[BackgroundLoop] | None = None,
    domains: Sequence[Domain] | None = None,
) -> None:
    """Run the declared consumers and loops of ``domains`` (default: the service's) until ``stop``.

    ``consumers`` and ``loops`` narrow what runs (``wallet worker --consumer``).
    """
    domains = load_domains() if domains is None else domains
    async with open_worker_services(settings, domains) as services:
        ctx = WorkerContext(services, worker_id())
        await run_workers(
            ctx,
            stop,
            [c for d in domains for c in d.consumers] if consumers is None else list(consumers),
            [lp for d in domains for lp in d.loops] if loops is None else list(loops),
        )


async def run_workers(
    ctx: WorkerContext, stop: asyncio.Event, consumers: Sequence[Consumer], loops: Sequence[BackgroundLoop]
) -> None:
    """Run ``consumers`` and ``loops`` with ``ctx`` until ``stop``, then let batches in flight finish."""
    wake = asyncio.Event()
    tasks = [asyncio.create_task(_listen(ctx.settings.database_url, wake, stop))]
    tasks += [asyncio.create_task(_consume(ctx, c, wake, stop)) for c in consumers]
    tasks += [asyncio.create_task(_loop(ctx, lp, stop)) for lp in loops]
    log.info("worker started", extra={"worker": ctx.worker_id, "count": len(tasks)})
    try:
        await stop.wait()
        # Let batches in flight finish and record their outcome (bounded by the lease).
        await asyncio.wait(tasks, timeout=float(ctx.settings.outbox_lease_seconds))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        log.info("worker stopped", extra={"worker": ctx.worker_id})
