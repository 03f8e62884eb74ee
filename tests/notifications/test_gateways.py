"""Push over the real protocols against local fakes: FCM HTTP v1 (OAuth2) and APNs (HTTP/2).

Covers what a platform can answer: accepted, token gone (the device's token is forgotten),
and down (retried with backoff, then dead-lettered) — without holding up other messages.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from notifications.deliveries import deliver_once
from tests.notifications.conftest import create_account, create_device, publish_event
from tests.notifications.fakes import FakeApns, FakeFcm, serve_apns, serve_fcm
from tests.support.settings import replaced
from tests.support.workers import worker_context
from wallet_api.settings import Settings
from wallet_api.worker_context import WorkerContext


def _pem_private(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _pem_public(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@contextlib.asynccontextmanager
async def worker_with(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, **overrides: Any
) -> AsyncIterator[WorkerContext]:
    async with httpx.AsyncClient() as http:
        ctx = worker_context(replaced(settings, **overrides), db, redis, http, worker_id=f"w-{uuid.uuid4().hex[:6]}")
        try:
            yield ctx
        finally:
            await ctx.services.aclose()


@pytest.fixture
async def fcm(tmp_path: Path) -> AsyncIterator[tuple[FakeFcm, str]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake = FakeFcm(public_key_pem=_pem_public(key), project_id="citizen-wallet-test")
    async with serve_fcm(fake):
        account_file = tmp_path / "service-account.json"
        account_file.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": fake.project_id,
                    "private_key_id": "key-1",
                    "private_key": _pem_private(key),
                    "client_email": "push@citizen-wallet-test.iam.gserviceaccount.com",
                    "token_uri": f"{fake.url}/token",
                }
            )
        )
        yield fake, str(account_file)


@pytest.fixture
async def apns(tmp_path: Path) -> AsyncIterator[tuple[FakeApns, str]]:
    key = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "AuthKey_ABC123DEFG.p8"
    key_file.write_text(_pem_private(key))
    async with serve_apns(FakeApns(public_key_pem=_pem_public(key))) as fake:
        yield fake, str(key_file)


async def _notice_for(db: asyncpg.Pool, consume: Any, account: uuid.UUID) -> None:
    await publish_event(
        db,
        "payment.succeeded",
        {"account_id": str(account), "payment_id": str(uuid.uuid4()), "amount": 500000, "programme_name": "Trợ cấp"},
    )
    await consume()


async def _deliveries(db: asyncpg.Pool) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await db.fetch(
        "SELECT d.*, v.push_token FROM notification_deliveries d JOIN devices v ON v.id = d.device_id"
    )
    return {r["device_id"]: r for r in rows}


async def test_fcm_messages_go_out_over_http_v1_with_an_oauth2_token(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, consume: Any, fcm: tuple[FakeFcm, str]
) -> None:
    fake, account_file = fcm
    account = await create_account(db)
    device, token = await create_device(db, account, platform="fcm")
    await _notice_for(db, consume, account)
    await _notice_for(db, consume, account)
    async with worker_with(
        settings, db, redis, push_fcm_service_account=account_file, push_fcm_endpoint=fake.url
    ) as ctx:
        assert await deliver_once(ctx, "fcm") == 2

    assert (await _deliveries(db))[device]["state"] == "sent"
    # One OAuth2 exchange serves both messages; the assertion is what Google expects.
    [claims] = fake.assertions
    assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
    assert claims["iss"] == "push@citizen-wallet-test.iam.gserviceaccount.com"
    message = fake.sends[0].body["message"]
    assert message["token"] == token
    assert message["notification"] == {"title": "Bạn vừa nhận một khoản thanh toán"}
    assert set(message["data"]) == {"notification_id", "category"}
    assert "500" not in json.dumps(message) and "Trợ cấp" not in json.dumps(message, ensure_ascii=False)


async def test_an_unregistered_fcm_token_is_forgotten_and_the_delivery_skipped(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, consume: Any, fcm: tuple[FakeFcm, str]
) -> None:
    fake, account_file = fcm
    account = await create_account(db)
    device, token = await create_device(db, account, platform="fcm")
    fake.behaviour[str(token)] = "gone"
    await _notice_for(db, consume, account)
    async with worker_with(
        settings, db, redis, push_fcm_service_account=account_file, push_fcm_endpoint=fake.url
    ) as ctx:
        await deliver_once(ctx, "fcm")
    delivery = (await _deliveries(db))[device]
    assert delivery["state"] == "skipped"
    assert "UNREGISTERED" in delivery["last_error"]
    assert await db.fetchval("SELECT push_token FROM devices WHERE id = $1", device) is None


async def test_a_failing_gateway_is_retried_then_dead_lettered_without_blocking_others(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, consume: Any, fcm: tuple[FakeFcm, str]
) -> None:
    fake, account_file = fcm
    unlucky, lucky = await create_account(db), await create_account(db)
    bad_device, bad_token = await create_device(db, unlucky, platform="fcm")
    good_device, _ = await create_device(db, lucky, platform="fcm")
    fake.behaviour[str(bad_token)] = "down"
    await _notice_for(db, consume, unlucky)
    await _notice_for(db, consume, lucky)
    async with worker_with(
        settings,
        db,
        redis,
        push_fcm_service_account=account_file,
        push_fcm_endpoint=fake.url,
        notify_max_attempts=3,
        notify_retry_base_seconds=1,
    ) as ctx:
        await deliver_once(ctx, "fcm")
        state = await _deliveries(db)
        assert state[good_device]["state"] == "sent"
        assert state[bad_device]["state"] == "pending" and state[bad_device]["attempts"] == 1
        # The platform's Retry-After (30 s) outweighs our own first backoff (about 1 s).
        wait = await db.fetchval(
            "SELECT extract(epoch FROM available_at - now()) FROM notification_deliveries WHERE device_id = $1",
            bad_device,
        )
        assert 25 < wait <= 31
        assert await deliver_once(ctx, "fcm") == 0  # not due yet
        for _ in range(2):
            await db.execute("UPDATE notification_deliveries SET available_at = now() WHERE state = 'pending'")
            await deliver_once(ctx, "fcm")
    dead = (await _deliveries(db))[bad_device]
    assert dead["state"] == "dead" and dead["attempts"] == 3
    assert "503" in dead["last_error"]
    assert len([s for s in fake.sends if s.body["message"]["token"] == bad_token]) == 3
    # A platform outage is not the device's fault: its token is kept.
    assert await db.fetchval("SELECT push_token FROM devices WHERE id = $1", bad_device) == bad_token


async def test_apns_messages_go_out_over_http2_with_a_provider_token(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, consume: Any, apns: tuple[FakeApns, str]
) -> None:
    fake, key_file = apns
    account = await create_account(db, language="en")
    ok_device, ok_token = await create_device(db, account, platform="apns")
    gone_device, gone_token = await create_device(db, account, platform="apns")
    fake.behaviour[str(gone_token)] = "gone"
    await _notice_for(db, consume, account)
    async with worker_with(
        settings,
        db,
        redis,
        push_apns_key_file=key_file,
        push_apns_key_id="ABC123DEFG",
        push_apns_team_id="TEAM123456",
        push_apns_topic="vn.gov.citizenwallet",
        push_apns_endpoint=fake.url,
    ) as ctx:
        await deliver_once(ctx, "apns")

    state = await _deliveries(db)
    assert state[ok_device]["state"] == "sent"
    assert state[gone_device]["state"] == "skipped"
    assert await db.fetchval("SELECT push_token FROM devices WHERE id = $1", gone_device) is None
    seen = next(r for r in fake.requests if r.path == f"/3/device/{ok_token}")
    assert seen.headers[":method"] == "POST"
    assert seen.headers["apns-topic"] == "vn.gov.citizenwallet"
    assert seen.headers["apns-push-type"] == "alert"
    assert seen.body["aps"]["alert"] == {"title": "You have received a payment"}
    assert set(seen.body) == {"aps", "notification_id", "category"}


async def test_an_unconfigured_gateway_in_production_retries_instead_of_pretending(
    settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, consume: Any
) -> None:
    account = await create_account(db)
    device, _ = await create_device(db, account, platform="fcm")
    await _notice_for(db, consume, account)
    async with worker_with(settings, db, redis, env="production") as ctx:
        await deliver_once(ctx, "fcm")
    delivery = (await _deliveries(db))[device]
    assert delivery["state"] == "pending"
    assert "not configured" in delivery["last_error"]


async def test_a_message_a_platform_refuses_is_dead_at_once_and_the_token_kept(
    settings: Settings,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    fcm: tuple[FakeFcm, str],
    apns: tuple[FakeApns, str],
) -> None:
    fcm_fake, account_file = fcm
    apns_fake, key_file = apns
    account = await create_account(db)
    android, android_token = await create_device(db, account, platform="fcm")
    iphone, iphone_token = await create_device(db, account, platform="apns")
    fcm_fake.behaviour[str(android_token)] = "bad"
    apns_fake.behaviour[str(iphone_token)] = "bad"
    await _notice_for(db, consume, account)
    async with worker_with(
        settings,
        db,
        redis,
        push_fcm_service_account=account_file,
        push_fcm_endpoint=fcm_fake.url,
        push_apns_key_file=key_file,
        push_apns_key_id="ABC123DEFG",
        push_apns_team_id="TEAM123456",
        push_apns_topic="vn.gov.citizenwallet",
        push_apns_endpoint=apns_fake.url,
    ) as ctx:
        await deliver_once(ctx, "fcm")
        await deliver_once(ctx, "apns")
    state = await _deliveries(db)
    assert (state[android]["state"], state[android]["attempts"]) == ("dead", 1)
    assert "INVALID_ARGUMENT" in state[android]["last_error"]
    assert (state[iphone]["state"], state[iphone]["attempts"]) == ("dead", 1)
    assert "PayloadTooLarge" in state[iphone]["last_error"]
    tokens = {r["id"]: r["push_token"] for r in await db.fetch("SELECT id, push_token FROM devices")}
    assert tokens == {android: android_token, iphone: iphone_token}
