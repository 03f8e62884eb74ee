"""Fixtures for notifications: accounts and devices as rows, events through the real outbox."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from notifications.consumer import CONSUMER
from notifications.deliveries import deliver_once
from tests.support.settings import replaced
from tests.support.workers import worker_context
from wallet_api.outbox import publish
from wallet_api.outbox.dispatch import run_consumer_once
from wallet_api.settings import Settings
from wallet_api.worker_context import WorkerContext


async def create_account(db: asyncpg.Pool, *, language: str = "vi", phone: str | None = None) -> uuid.UUID:
    person_id = "".join(secrets.choice("0123456789") for _ in range(12))
    phone = phone or "09" + "".join(secrets.choice("0123456789") for _ in range(8))
    value = await db.fetchval(
        "INSERT INTO accounts (person_id, phone, level, language) VALUES ($1, $2, 2, $3) RETURNING id",
        person_id,
        phone,
        language,
    )
    assert isinstance(value, uuid.UUID)
    return value


async def create_device(
    db: asyncpg.Pool, account_id: uuid.UUID, *, platform: str | None = "fcm", token: str | None = None
) -> tuple[uuid.UUID, str | None]:
    if platform is not None and token is None:
        token = f"{platform}-token-{secrets.token_hex(8)}"
    value = await db.fetchval(
        """INSERT INTO devices (account_id, name, public_jwk, push_platform, push_token)
           VALUES ($1, 'Test phone', '{"kty":"EC"}'::jsonb, $2, $3) RETURNING id""",
        account_id,
        platform,
        token,
    )
    assert isinstance(value, uuid.UUID)
    return value, token


async def publish_event(db: asyncpg.Pool, topic: str, payload: dict[str, Any], key: str | None = None) -> None:
    async with db.acquire() as conn, conn.transaction():
        await publish(conn, topic, json.loads(json.dumps(payload, default=str)), key=key)


@pytest.fixture
async def worker(settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis) -> AsyncIterator[WorkerContext]:
    async with httpx.AsyncClient() as http:
        ctx = worker_context(replaced(settings, notify_retry_base_seconds=0), db, redis, http)
        yield ctx
        await ctx.services.aclose()


Drive = Callable[[], Awaitable[int]]


@pytest.fixture
def consume(worker: WorkerContext) -> Drive:
    """Run the notifications consumer until the outbox has nothing for it."""

    async def _consume() -> int:
        total = 0
        while n := await run_consumer_once(worker.pool, CONSUMER, worker, owner="test", lease=30, max_attempts=3):
            total += n
        return total

    return _consume


@pytest.fixture
def deliver(worker: WorkerContext) -> Callable[[str], Awaitable[int]]:
    async def _deliver(channel: str) -> int:
        return await deliver_once(worker, channel)

    return _deliver


@pytest.fixture
def citizen_headers(mint: Any) -> Callable[[uuid.UUID], Awaitable[dict[str, str]]]:
    async def _headers(account_id: uuid.UUID, device_id: uuid.UUID | None = None) -> dict[str, str]:
        headers: dict[str, str] = await mint(
            kind="citizen", subject=str(account_id), level=2, device_id=str(device_id) if device_id else None
        )
        return headers

    return _headers
