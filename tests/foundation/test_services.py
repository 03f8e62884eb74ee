"""A process's services: built once, declared by domains, handed to workers, closed (and drained) once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from wallet_api.batching import Batcher
from wallet_api.domains import Domain, load_domains
from wallet_api.outbox import Consumer, EventFailure, OutboxEvent, OutboxRoutes, declared_routes, publish
from wallet_api.services import ServiceFactory, Services, UndeclaredService, open_services
from wallet_api.settings import Settings
from wallet_api.worker import run_worker
from wallet_api.worker_context import WorkerContext


class _Counter:
    """A domain service that counts how often it is built and closed."""

    built = 0

    def __init__(self) -> None:
        _Counter.built += 1
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


COUNTER = ServiceFactory("test-counter", lambda services: _Counter())


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient() as client:
        yield client


async def test_a_domain_service_is_built_once_and_closed_with_the_process(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, http: httpx.AsyncClient
) -> None:
    services = Services(settings, db, redis, http, factories=[COUNTER])
    before = _Counter.built
    first = services.get(COUNTER)
    assert services.get(COUNTER) is first and _Counter.built == before + 1
    await services.aclose()
    assert first.closed


async def test_a_service_no_domain_declares_is_refused(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, http: httpx.AsyncClient
) -> None:
    services = Services(settings, db, redis, http)
    with pytest.raises(UndeclaredService):
        services.get(COUNTER)


async def test_closing_services_drains_the_batches_in_flight(settings: Settings) -> None:
    ran: list[int] = []
    gate = asyncio.Event()

    async def run(items: list[int]) -> list[int]:
        await gate.wait()
        ran.extend(items)
        return items

    async with open_services(settings, role="worker") as services:
        batcher = services.batchers.get("test-gated", lambda: Batcher(run))
        waiting = asyncio.create_task(batcher.submit(7))
        await asyncio.sleep(0)  # the submit queues its item and starts the batch
        closing = asyncio.create_task(services.aclose())
        await asyncio.sleep(0)
        assert not closing.done()  # held by the batch in flight
        gate.set()
        await closing
        assert ran == [7] and waiting.done() and waiting.result() == 7


async def test_a_worker_started_with_services_runs_a_domains_declared_consumer(
    settings: Settings, db: asyncpg.Pool
) -> None:
    seen: list[tuple[str | None, str]] = []
    done = asyncio.Event()

    async def handle(events: list[OutboxEvent], ctx: WorkerContext) -> Mapping[int, EventFailure] | None:
        # The consumer gets the worker's services, with the domain's own service in them.
        assert isinstance(ctx.services.get(COUNTER), _Counter)
        seen.extend((e.key, ctx.services.settings.env) for e in events)
        done.set()
        return None

    consumer = Consumer(name="test-services-consumer", topics=("test.services",), handle=handle)
    domain = Domain(name="test-services", consumers=[consumer], services=[COUNTER])
    async with db.acquire() as conn:
        await publish(conn, "test.services", {}, key="k1", routes=OutboxRoutes(domain.consumers))
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop, domains=[domain]))
    async with asyncio.timeout(60):  # a bound for a broken build, not a measure of speed
        await done.wait()
    stop.set()
    await worker
    assert seen == [("k1", "test")]


def test_every_consumer_is_declared_by_a_domain_and_none_registers_itself() -> None:
    declared = declared_routes().consumers
    assert declared == {c.name: c for d in load_domains() for c in d.consumers}
    # A consumer defined outside the domains (as this module's tests do) receives nothing.
    assert declared_routes().consumers_for("test.services") == []
    modules = [m for name, m in list(sys.modules.items()) if name.split(".")[0] in _PACKAGES]
    found = {id(v): v for m in modules for v in vars(m).values() if isinstance(v, Consumer)}
    assert {c.name for c in found.values()} <= set(declared)


_PACKAGES = {"wallet_api", "documents", "payments", "notifications", "proofing", "consoles", "openid4vci"}


def test_domains_do_not_import_the_worker() -> None:
    code = "import sys, wallet_api.domains; assert 'wallet_api.worker' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
