"""Per-category opt-outs: honoured for push and SMS, refused for security notices."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from notifications.channels.push import read_dev_push
from notifications.channels.sms.local import read_dev_sms
from tests.notifications.conftest import create_account, create_device, publish_event


async def test_defaults_list_every_category_with_security_mandatory(
    client: httpx.AsyncClient, db: asyncpg.Pool, citizen_headers: Any
) -> None:
    account = await create_account(db, language="en")
    r = await client.get("/v1/notifications/preferences", headers=await citizen_headers(account))
    assert r.status_code == 200
    body = r.json()
    assert body["language"] == "en"
    by_code = {c["category"]: c for c in body["categories"]}
    assert by_code["security"] == {
        "category": "security",
        "name": "Security notices",
        "mandatory": True,
        "push": True,
        "sms": True,
    }
    assert by_code["payments"]["mandatory"] is False and by_code["payments"]["push"] is True


async def test_opting_out_of_a_category_stops_its_push_but_keeps_the_inbox_entry(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis, consume: Any, deliver: Any, citizen_headers: Any
) -> None:
    account = await create_account(db)
    _, token = await create_device(db, account)
    headers = await citizen_headers(account)
    r = await client.put(
        "/v1/notifications/preferences",
        json={"categories": {"document_checks": {"push": False, "sms": False}}},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert {c["category"]: c["push"] for c in r.json()["categories"]}["document_checks"] is False

    await publish_event(
        db,
        "document.viewed",
        {
            "account_id": str(account),
            "document_id": "d1",
            "doc_type": "driving_licence",
            "verifier_org_id": "v1",
            "verifier_name": "Khách sạn Sen",
            "fields": ["full_name"],
        },
    )
    await publish_event(
        db, "payment.succeeded", {"account_id": str(account), "payment_id": "p1", "amount": 5, "programme_name": "X"}
    )
    await consume()
    await deliver("fcm")

    kinds = [i["kind"] for i in (await client.get("/v1/notifications", headers=headers)).json()["items"]]
    assert sorted(kinds) == ["document.viewed", "payment.succeeded"]
    pushes: list[dict[str, Any]] = await read_dev_push(redis, str(token))
    assert [p["data"]["category"] for p in pushes] == ["payments"]


async def test_opting_in_to_sms_for_a_category_sends_sms(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis, consume: Any, deliver: Any, citizen_headers: Any
) -> None:
    account = await create_account(db, phone="0987654321")
    await client.put(
        "/v1/notifications/preferences",
        json={"categories": {"payments": {"push": True, "sms": True}}},
        headers=await citizen_headers(account),
    )
    await publish_event(
        db,
        "payment.held",
        {
            "account_id": str(account),
            "payment_id": "p1",
            "amount": 100000,
            "programme_name": "Q",
            "reason": "no_wallet",
        },
    )
    await consume()
    await deliver("sms")
    [sms] = await read_dev_sms(redis, "0987654321")
    assert "lien ket vi dien tu" in str(sms["text"])


async def test_security_notices_cannot_be_turned_off(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis, consume: Any, deliver: Any, citizen_headers: Any
) -> None:
    account = await create_account(db)
    _, token = await create_device(db, account, platform="apns")
    headers = await citizen_headers(account)
    r = await client.put(
        "/v1/notifications/preferences",
        json={"categories": {"security": {"push": False, "sms": False}}},
        headers=headers,
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("/notification-preferences")
    # Even a row written behind the API's back is ignored for a mandatory category.
    await db.execute(
        "INSERT INTO notification_preferences (account_id, category, channel, enabled)"
        " VALUES ($1, 'security', 'push', false), ($1, 'security', 'sms', false)",
        account,
    )
    await publish_event(db, "wallet.payout_changed", {"account_id": str(account), "link_id": "l1", "provider": "momo"})
    await consume()
    await deliver("apns")
    assert len(await read_dev_push(redis, str(token))) == 1


async def test_unknown_categories_are_refused(
    client: httpx.AsyncClient, db: asyncpg.Pool, citizen_headers: Any
) -> None:
    account = await create_account(db)
    r = await client.put(
        "/v1/notifications/preferences",
        json={"categories": {"lottery": {"push": True, "sms": True}}},
        headers=await citizen_headers(account),
    )
    assert r.status_code == 422


async def test_a_device_registers_its_push_token_and_a_reinstall_moves_it(
    client: httpx.AsyncClient, db: asyncpg.Pool, citizen_headers: Any
) -> None:
    account = await create_account(db)
    old, _ = await create_device(db, account, platform="fcm", token="shared-install-token")
    new, _ = await create_device(db, account, platform=None)
    r = await client.put(
        "/v1/notifications/push-token",
        json={"platform": "fcm", "token": "shared-install-token"},
        headers=await citizen_headers(account, new),
    )
    assert r.status_code == 204, r.text
    tokens = {r["id"]: r["push_token"] for r in await db.fetch("SELECT id, push_token FROM devices")}
    assert tokens == {old: None, new: "shared-install-token"}


async def test_a_push_token_needs_a_bound_device(
    client: httpx.AsyncClient, db: asyncpg.Pool, citizen_headers: Any
) -> None:
    account = await create_account(db)
    r = await client.put(
        "/v1/notifications/push-token",
        json={"platform": "apns", "token": "abcdef0123456789"},
        headers=await citizen_headers(account),
    )
    assert r.status_code == 400
    assert r.json()["type"].endswith("/device-required")
