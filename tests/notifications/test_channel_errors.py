"""Every channel maps what its service answers to one error tree (wallet_api.outbound):
recipient gone → the destination is forgotten and the delivery skipped; transient (5xx,
refused connection) → retried by the backoff; rejected (400) → dead at once, not retried.

SMS and e-mail go to a local service speaking their documented HTTP contract; push to the
local FCM fake (the APNs and the other FCM answers are in test_gateways.py).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from notifications.deliveries import deliver_once
from tests.notifications.conftest import create_account, publish_event
from tests.notifications.fakes import FakeSendingApi, refusing_url, serve_http
from tests.support.settings import replaced
from tests.support.workers import worker_context
from wallet_api.settings import Settings
from wallet_api.worker_context import WorkerContext


@pytest.fixture
async def service() -> AsyncIterator[FakeSendingApi]:
    async with serve_http(FakeSendingApi()) as fake:
        yield fake


@contextlib.asynccontextmanager
async def worker_with(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, **overrides: Any
) -> AsyncIterator[WorkerContext]:
    async with httpx.AsyncClient() as http:
        ctx = worker_context(
            replaced(settings, notify_retry_base_seconds=1, **overrides), db, redis, http, worker_id="w-errors"
        )
        try:
            yield ctx
        finally:
            await ctx.services.aclose()


async def _security_notice(db: asyncpg.Pool, consume: Any, account: uuid.UUID) -> None:
    # Security notices go by SMS whatever the preferences say.
    payload = {"account_id": str(account), "link_id": str(uuid.uuid4()), "provider": "momo"}
    await publish_event(db, "wallet.payout_changed", payload)
    await consume()


async def _delivery(db: asyncpg.Pool, account: uuid.UUID, channel: str) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT state, attempts, last_error FROM notification_deliveries WHERE account_id = $1 AND channel = $2",
        account,
        channel,
    )
    assert row is not None
    return row


@pytest.mark.parametrize(
    ("status", "state", "error"),
    [
        (200, "sent", None),
        (404, "skipped", "404"),
        (410, "skipped", "410"),
        (400, "dead", "400"),
        (503, "pending", "503"),
    ],
)
async def test_sms_gateway_answers_map_to_the_error_tree(
    settings: Settings,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    service: FakeSendingApi,
    status: int,
    state: str,
    error: str | None,
) -> None:
    phone = "0912" + uuid.uuid4().hex[:6].translate(str.maketrans("abcdef", "123456"))
    account = await create_account(db, phone=phone)
    service.status[phone] = status
    await _security_notice(db, consume, account)
    async with worker_with(settings, db, redis, sms_gateway_url=f"{service.url}/sms", sms_gateway_token="t") as ctx:
        assert await deliver_once(ctx, "sms") == 1
    row = await _delivery(db, account, "sms")
    assert row["state"] == state
    assert (row["last_error"] is None) if error is None else (error in row["last_error"])
    [seen] = service.requests
    assert seen.body["to"] == phone and seen.headers["authorization"] == "Bearer t"
    assert seen.headers["idempotency-key"] == seen.body["reference"]
    # The phone is the account's own data: a gone number is recorded, never erased here.
    assert await db.fetchval("SELECT phone FROM accounts WHERE id = $1", account) == phone


async def test_a_refused_connection_to_the_sms_gateway_is_retried_then_dead_lettered(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, consume: Any
) -> None:
    account = await create_account(db)
    await _security_notice(db, consume, account)
    async with worker_with(settings, db, redis, sms_gateway_url=refusing_url(), notify_max_attempts=2) as ctx:
        await deliver_once(ctx, "sms")
        first = await _delivery(db, account, "sms")
        assert (first["state"], first["attempts"]) == ("pending", 1)
        assert "ConnectError" in first["last_error"]
        await db.execute("UPDATE notification_deliveries SET available_at = now()")
        await deliver_once(ctx, "sms")
    assert (await _delivery(db, account, "sms"))["state"] == "dead"


async def _confirmed_email(db: asyncpg.Pool, account: uuid.UUID, address: str) -> None:
    await db.execute(
        """INSERT INTO notification_addresses (account_id, channel, address, confirmed_at)
           VALUES ($1, 'email', $2, now())""",
        account,
        address,
    )


@pytest.mark.parametrize(
    ("status", "state", "kept"),
    [
        (202, "sent", True),
        (410, "skipped", False),
        (404, "skipped", False),
        (400, "dead", True),
        (500, "pending", True),
    ],
)
async def test_mail_service_answers_map_to_the_error_tree(
    settings: Settings,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    service: FakeSendingApi,
    status: int,
    state: str,
    kept: bool,
) -> None:
    account = await create_account(db)
    address = f"c{uuid.uuid4().hex[:8]}@example.vn"
    await _confirmed_email(db, account, address)
    await db.execute(
        """INSERT INTO notification_preferences (account_id, category, channel, enabled)
           VALUES ($1, 'security', 'email', true)""",
        account,
    )
    service.status[address] = status
    await _security_notice(db, consume, account)
    async with worker_with(settings, db, redis, mail_api_url=f"{service.url}/mail", mail_api_token="m") as ctx:
        await deliver_once(ctx, "email")
    assert (await _delivery(db, account, "email"))["state"] == state
    # Recipient gone: the address is unconfirmed (no more e-mail there); otherwise kept.
    still = await db.fetchval("SELECT address FROM notification_addresses WHERE account_id = $1", account)
    assert (still == address) is kept
