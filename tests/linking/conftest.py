"""Fixtures for linking: level-2 citizens in the registry, the provider simulator, a worker."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from payments.linking.flow import LINKING_CONSUMER
from payments.providers import PROVIDERS, ProviderRegistry
from tests.support.provider_sim import provider_registry, provider_sim, provider_sim_server
from tests.support.workers import worker_context
from wallet_api.outbox.dispatch import run_consumer_once
from wallet_api.settings import Settings
from wallet_api.worker_context import WorkerContext

__all__ = ["Citizen", "provider_registry", "provider_sim", "provider_sim_server"]

_serial = itertools.count(1)


@dataclass
class Citizen:
    account_id: uuid.UUID
    person_id: str
    full_name: str
    headers: dict[str, str]


@pytest.fixture
def make_citizen(db: asyncpg.Pool, mint: Any) -> Any:
    async def make(full_name: str = "Nguyễn Thị Hồng Nhung", *, level: int = 2, fresh: bool = True) -> Citizen:
        # Born 1990, female: the 4th digit 1 and the 5th-6th "90" agree with the birth date.
        person_id = f"0011{90}{(next(_serial) * 7919 + int(time.time())) % 1_000_000:06d}"
        await db.execute(
            """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin,
                                       residence_address, residence_province)
               VALUES ($1, $2, '1990-05-01', 'female', 'Hà Nội', 'Hà Nội', '001')""",
            person_id,
            full_name,
        )
        account_id = await db.fetchval(
            "INSERT INTO accounts (person_id, phone, level) VALUES ($1, '0912000000', $2) RETURNING id",
            person_id,
            level,
        )
        auth_time = int(time.time()) if fresh else int(time.time()) - 3600
        headers = await mint(
            kind="citizen", subject=str(account_id), level=level, device_id=str(uuid.uuid4()), auth_time=auth_time
        )
        return Citizen(account_id, person_id, full_name, dict(headers))

    return make


@pytest.fixture
async def worker(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, provider_registry: ProviderRegistry
) -> AsyncIterator[WorkerContext]:
    async with httpx.AsyncClient() as http:
        ctx = worker_context(settings, db, redis, http, services={PROVIDERS: provider_registry})
        yield ctx
        await ctx.services.aclose()


async def drain(ctx: WorkerContext, *, rounds: int = 20) -> int:
    """Run the linking consumer until no event is due now; returns events handled."""
    total = 0
    for _ in range(rounds):
        n = await run_consumer_once(ctx.pool, LINKING_CONSUMER, ctx, owner=ctx.worker_id, lease=30, max_attempts=31)
        total += n
        if n == 0:
            break
    return total
