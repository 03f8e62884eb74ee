"""E-mail as a channel: a citizen gives an address, confirms it with the code mailed there,
chooses e-mail per category, and gets notices by e-mail through the worker — only where
they chose it, with no personal data beyond the notice's fixed title, and nothing personal
in the logs."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from notifications.channels.email.local import read_dev_mail
from tests.notifications.conftest import create_account, publish_event
from tests.notifications.fakes import refusing_url
from tests.support.asgi import client_of, lifespan
from tests.support.probes import PROBES
from tests.support.settings import replaced
from wallet_api.app import create_app
from wallet_api.settings import Settings

_PATH = "/v1/notifications/addresses/email"


async def _code(redis: aioredis.Redis, address: str) -> str:
    [mail, *_] = await read_dev_mail(redis, address)
    found = re.search(r"\b(\d{6})\b", str(mail["text"]))
    assert found is not None
    return found.group(1)


def _other(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def _confirmed(client: httpx.AsyncClient, redis: aioredis.Redis, headers: dict[str, str], address: str) -> None:
    r = await client.put(_PATH, json={"address": address}, headers=headers)
    assert r.status_code == 202, r.text
    r = await client.post(f"{_PATH}/confirm", json={"code": await _code(redis, address)}, headers=headers)
    assert r.status_code == 200, r.text


async def _email_for_payments(client: httpx.AsyncClient, headers: dict[str, str], *, on: bool) -> None:
    r = await client.put(
        "/v1/notifications/preferences", json={"categories": {"payments": {"email": on}}}, headers=headers
    )
    assert r.status_code == 200, r.text


async def _payment(db: asyncpg.Pool, consume: Any, account: uuid.UUID) -> None:
    payload = {
        "account_id": str(account),
        "payment_id": str(uuid.uuid4()),
        "amount": 750000,
        "programme_name": "Trợ cấp X",
    }
    await publish_event(db, "payment.succeeded", payload)
    await consume()


async def test_an_address_is_used_only_once_confirmed_with_the_mailed_code(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis, citizen_headers: Any
) -> None:
    account = await create_account(db, language="en")
    headers = await citizen_headers(account)
    r = await client.put(_PATH, json={"address": "  Nhung.Nguyen@Example.VN "}, headers=headers)
    assert r.status_code == 202, r.text
    assert r.json() == {"channel": "email", "pending": "Nhung.Nguyen@example.vn", "expires_in": 900}
    [mail] = await read_dev_mail(redis, "Nhung.Nguyen@example.vn")
    assert "confirm your e-mail address" in str(mail["subject"])
    pending = (await client.get(_PATH, headers=headers)).json()
    assert (pending["address"], pending["pending"]) == (None, "Nhung.Nguyen@example.vn")

    wrong = await client.post(
        f"{_PATH}/confirm", json={"code": _other(await _code(redis, "Nhung.Nguyen@example.vn"))}, headers=headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["type"].endswith("/address-code-invalid")
    r = await client.post(
        f"{_PATH}/confirm", json={"code": await _code(redis, "Nhung.Nguyen@example.vn")}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["address"] == "Nhung.Nguyen@example.vn" and r.json()["pending"] is None
    # A code works once.
    again = await client.post(
        f"{_PATH}/confirm", json={"code": await _code(redis, "Nhung.Nguyen@example.vn")}, headers=headers
    )
    assert again.status_code == 422


async def test_wrong_codes_burn_the_code(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis, citizen_headers: Any
) -> None:
    account = await create_account(db)
    headers = await citizen_headers(account)
    await client.put(_PATH, json={"address": "lan@example.vn"}, headers=headers)
    code = await _code(redis, "lan@example.vn")
    for _ in range(5):
        assert (await client.post(f"{_PATH}/confirm", json={"code": _other(code)}, headers=headers)).status_code == 422
    r = await client.post(f"{_PATH}/confirm", json={"code": code}, headers=headers)
    assert r.status_code == 422
    assert (await client.get(_PATH, headers=headers)).json()["address"] is None


async def test_codes_are_not_mailed_again_within_a_minute(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis, citizen_headers: Any
) -> None:
    account = await create_account(db)
    headers = await citizen_headers(account)
    assert (await client.put(_PATH, json={"address": "a@example.vn"}, headers=headers)).status_code == 202
    r = await client.put(_PATH, json={"address": "b@example.vn"}, headers=headers)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "60"
    assert await read_dev_mail(redis, "b@example.vn") == []


@pytest.mark.parametrize("address", ["no-at-sign", "a@b", "two@@example.vn", "a b@example.vn", "a@-x.vn", "a@x..vn"])
async def test_what_is_not_an_address_is_refused(
    client: httpx.AsyncClient, db: asyncpg.Pool, citizen_headers: Any, address: str
) -> None:
    headers = await citizen_headers(await create_account(db))
    r = await client.put(_PATH, json={"address": address}, headers=headers)
    assert r.status_code == 422
    assert r.json()["type"].endswith("/invalid-address")
    assert address not in r.text  # validation problems never echo the value


async def test_a_mail_service_that_is_down_answers_503_and_the_citizen_tries_again_later(
    settings: Settings, db: asyncpg.Pool, citizen_headers: Any
) -> None:
    headers = await citizen_headers(await create_account(db))
    down = create_app(replaced(settings, mail_api_url=refusing_url()), extra_routes=PROBES)
    async with lifespan(down), client_of(down) as client:
        r = await client.put(_PATH, json={"address": "nam@example.vn"}, headers=headers)
    assert r.status_code == 503
    assert r.json()["type"].endswith("/channel-unavailable")
    assert r.headers["retry-after"] == "60"


async def test_a_channel_without_addresses_has_no_address_routes(
    client: httpx.AsyncClient, db: asyncpg.Pool, citizen_headers: Any
) -> None:
    headers = await citizen_headers(await create_account(db))
    for channel in ("sms", "pigeon"):
        r = await client.put(
            f"/v1/notifications/addresses/{channel}", json={"address": "x@example.vn"}, headers=headers
        )
        assert r.status_code == 404
        assert r.json()["type"].endswith("/unknown-channel")


async def test_addresses_need_a_signed_in_citizen(client: httpx.AsyncClient) -> None:
    assert (await client.get(_PATH)).status_code == 401


async def test_a_notice_is_mailed_where_the_citizen_chose_email(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    deliver: Any,
    citizen_headers: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    account = await create_account(db)
    headers = await citizen_headers(account)
    await _confirmed(client, redis, headers, "minh@example.vn")
    r = await client.put(
        "/v1/notifications/preferences", json={"categories": {"payments": {"email": True}}}, headers=headers
    )
    assert r.status_code == 200, r.text
    by_code = {c["category"]: c for c in r.json()["categories"]}
    assert (by_code["payments"]["push"], by_code["payments"]["sms"]) == (True, False)  # unchanged
    assert r.json()["channels"]["payments"] == {"push": True, "sms": False, "email": True}

    await _payment(db, consume, account)
    assert await deliver("email") == 1
    [notice, _code_mail] = await read_dev_mail(redis, "minh@example.vn")
    assert notice["subject"] == "VNeID: Bạn vừa nhận một khoản thanh toán"
    # The fixed title only: no amount, programme or name leaves for the mailbox.
    assert "750" not in str(notice) and "Trợ cấp X" not in str(notice)
    state = await db.fetchval("SELECT state FROM notification_deliveries WHERE channel = 'email'")
    assert state == "sent"
    assert "minh@example.vn" not in caplog.text


async def test_no_email_where_the_preference_is_off(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    deliver: Any,
    citizen_headers: Any,
) -> None:
    account = await create_account(db)
    headers = await citizen_headers(account)
    await _confirmed(client, redis, headers, "off@example.vn")
    await _payment(db, consume, account)  # e-mail is off by default
    await _email_for_payments(client, headers, on=True)
    await _email_for_payments(client, headers, on=False)
    await _payment(db, consume, account)
    assert await deliver("email") == 0
    assert await db.fetchval("SELECT count(*) FROM notification_deliveries WHERE channel = 'email'") == 0
    assert len(await read_dev_mail(redis, "off@example.vn")) == 1  # the code only


async def _confirmed_then_removed(client: httpx.AsyncClient, redis: aioredis.Redis, headers: dict[str, str]) -> None:
    r = await client.post(f"{_PATH}/confirm", json={"code": await _code(redis, "later@example.vn")}, headers=headers)
    assert r.status_code == 200
    assert (await client.delete(_PATH, headers=headers)).status_code == 204
    assert (await client.get(_PATH, headers=headers)).json()["address"] is None


async def test_an_unconfirmed_or_removed_address_gets_no_email(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    deliver: Any,
    citizen_headers: Any,
) -> None:
    account = await create_account(db)
    headers = await citizen_headers(account)
    await _email_for_payments(client, headers, on=True)
    await client.put(_PATH, json={"address": "later@example.vn"}, headers=headers)
    await _payment(db, consume, account)
    await _confirmed_then_removed(client, redis, headers)
    await _payment(db, consume, account)
    assert await db.fetchval("SELECT count(*) FROM notification_deliveries WHERE channel = 'email'") == 0


async def test_unknown_channels_in_preferences_are_refused(
    client: httpx.AsyncClient, db: asyncpg.Pool, citizen_headers: Any
) -> None:
    headers = await citizen_headers(await create_account(db))
    r = await client.put(
        "/v1/notifications/preferences", json={"categories": {"payments": {"pigeon": True}}}, headers=headers
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["key"] == "categories.payments.pigeon"


async def test_security_notices_may_add_email_but_not_drop_push_or_sms(
    client: httpx.AsyncClient, db: asyncpg.Pool, citizen_headers: Any
) -> None:
    headers = await citizen_headers(await create_account(db))
    r = await client.put(
        "/v1/notifications/preferences", json={"categories": {"security": {"email": True}}}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["channels"]["security"] == {"push": True, "sms": True, "email": True}
    r = await client.put(
        "/v1/notifications/preferences",
        json={"categories": {"security": {"email": True, "sms": False}}},
        headers=headers,
    )
    assert r.status_code == 422
