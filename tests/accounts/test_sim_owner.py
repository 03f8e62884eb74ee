"""SIM owner check: registration, phone change and device recovery need a phone the carriers
register to the person, and a refusal looks exactly like every other refusal."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from litestar import Litestar

from notifications.channels.sms.local import read_dev_sms
from tests.accounts.conftest import (
    MINH,
    Person,
    add_person,
    complete_with_a_guess,
    last_code,
    register,
    register_phone,
    start_registration,
)
from tests.support.settings import replaced
from wallet_api.accounts import subscribers
from wallet_api.accounts.subscribers import (
    HttpSubscriberRegistry,
    LocalSubscriberRegistry,
    SubscriberRegistryUnavailable,
)

SQUATTER_PHONE = "+84933111222"


async def test_squatter_cannot_register_a_real_persons_identity_on_their_own_phone(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    # The squatter knows her ID number, name and birth date (a photocopy of her card) and
    # uses a SIM registered in their own name.
    await register_phone(db, SQUATTER_PHONE, "079201000001")
    r = await start_registration(client, nhung, phone=SQUATTER_PHONE)
    assert r.status_code == 202
    assert await last_code(redis, SQUATTER_PHONE) is None
    r = await complete_with_a_guess(client, r.json()["id"])
    assert r.status_code == 401 and r.json()["type"].endswith("/invalid-code")
    assert await db.fetchval("SELECT count(*) FROM accounts") == 0
    # The owner then registers from her own phone as if nothing had happened.
    phone = await register(client, redis, nhung)
    assert (await client.get("/v1/me", headers=phone.headers)).json()["level"] == 1


async def test_a_number_nobody_registered_is_refused_the_same_way(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    r = await start_registration(client, nhung, phone="+84944000111")
    assert r.status_code == 202
    assert await last_code(redis, "+84944000111") is None
    assert (await complete_with_a_guess(client, r.json()["id"])).status_code == 401


@dataclasses.dataclass
class _CountingCarrier:
    """The local subscriber database, counting the questions it is asked."""

    inner: LocalSubscriberRegistry
    asked: int = 0

    async def is_registered_to(self, phone: str, person_id: str) -> bool:
        self.asked += 1
        return await self.inner.is_registered_to(phone, person_id)


async def test_every_refusal_has_the_same_shape_and_asks_the_carriers_once(
    client: httpx.AsyncClient,
    app: Litestar,
    redis: aioredis.Redis,
    db: asyncpg.Pool,
    nhung: Person,
    monkeypatch: Any,
) -> None:
    carrier = _CountingCarrier(LocalSubscriberRegistry(db))
    monkeypatch.setattr(app.state.services, "subscribers", carrier)
    await register_phone(db, SQUATTER_PHONE, "079201000001")
    ghost = Person("001195999999", "Nguyễn Văn Ma", date(1995, 1, 1), "female", "+84912999999")
    attempts = [
        (ghost, {}),  # no such person, no such subscriber
        (ghost, {"phone": SQUATTER_PHONE}),  # no such person, someone else's phone
        (nhung, {"phone": SQUATTER_PHONE}),  # real person, someone else's phone
        (nhung, {"phone": "+84944000111"}),  # real person, a number nobody registered
        (nhung, {"full_name": "Nguyễn Thị Lan"}),  # her phone, wrong name
        (nhung, {}),  # everything right: the one that gets a code
    ]
    bodies = []
    for person, override in attempts:
        before = carrier.asked
        r = await start_registration(client, person, **override)
        assert r.status_code == 202
        assert carrier.asked == before + 1
        bodies.append(r.json())
    assert {tuple(sorted(b)) for b in bodies} == {("expires_in", "id", "message")}
    assert len({(b["message"], b["expires_in"]) for b in bodies}) == 1
    assert await last_code(redis, nhung.phone) is not None
    assert await last_code(redis, SQUATTER_PHONE) is None


async def test_existing_account_with_a_phone_that_is_not_the_persons_is_not_told(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    await register(client, redis, nhung)
    await redis.delete(f"dev:sms:{nhung.phone}")
    await register_phone(db, SQUATTER_PHONE, "079201000001")
    r = await start_registration(client, nhung, phone=SQUATTER_PHONE)
    assert r.status_code == 202
    assert await read_dev_sms(redis, SQUATTER_PHONE) == []


async def test_phone_change_to_a_number_not_registered_to_me_sends_no_code(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    await register_phone(db, SQUATTER_PHONE, "079201000001")
    answers = []
    for number in (SQUATTER_PHONE, "+84944000111"):
        r = await client.post("/v1/me/phone", json={"phone": number}, headers=phone.headers)
        assert r.status_code == 202
        answers.append(r.json())
        assert await last_code(redis, number) is None
        r = await client.post(f"/v1/me/phone/{r.json()['id']}/confirm", json={"code": "123456"}, headers=phone.headers)
        assert r.status_code == 401 and r.json()["type"].endswith("/invalid-code")
    # Her own second SIM: a code, and the same answer as the refusals.
    await register_phone(db, "+84987654321", nhung.person_id)
    r = await client.post("/v1/me/phone", json={"phone": "+84987654321"}, headers=phone.headers)
    assert r.status_code == 202 and await last_code(redis, "+84987654321") is not None
    answers.append(r.json())
    assert len({(a["message"], a["expires_in"], tuple(sorted(a))) for a in answers}) == 1
    assert await db.fetchval("SELECT phone FROM accounts") == nhung.phone


async def test_recovery_needs_the_registered_number_to_still_be_the_persons(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    await register(client, redis, nhung)
    # She gave the number up; the carrier reassigned it to someone else.
    await db.execute("UPDATE mobile_subscribers SET person_id = '079201000001' WHERE phone = $1", nhung.phone)
    await redis.delete(f"dev:sms:{nhung.phone}")
    r = await client.post(
        "/v1/device-bindings", json={"person_id": nhung.person_id, "phone": nhung.phone, "password": nhung.password}
    )
    assert r.status_code == 202
    assert set(r.json()) == {"id", "expires_in", "message"}
    assert await last_code(redis, nhung.phone) is None


async def test_subscriber_database_down_is_a_503_problem_and_changes_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Pool, minh: Person, monkeypatch: Any
) -> None:
    services = app.state.services
    down = replaced(services.settings, subscriber_registry_url="http://127.0.0.1:9")
    monkeypatch.setattr(services, "subscribers", subscribers.subscriber_registry(down, services.http, services.pool))
    r = await start_registration(client, MINH)
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/subscriber-registry-unavailable")
    assert await db.fetchval("SELECT count(*) FROM accounts") == 0


def _carrier_app(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == "Bearer t0ken"
    assert request.url.path == "/subscriber-checks"
    body = request.read().decode()
    if "+84900000500" in body:
        return httpx.Response(502)
    if "+84900000666" in body:
        return httpx.Response(200, json={"registered": "yes"})
    return httpx.Response(200, json={"registered": '"001195004211"' in body and '"+84912000001"' in body})


async def test_http_adapter_reads_the_protocol() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_carrier_app)) as http:
        carrier = HttpSubscriberRegistry(http, "https://carriers.example/", "t0ken")
        assert await carrier.is_registered_to("+84912000001", "001195004211") is True
        assert await carrier.is_registered_to("+84912000001", "001088012345") is False
        for bad in ("+84900000500", "+84900000666"):
            with pytest.raises(SubscriberRegistryUnavailable):
                await carrier.is_registered_to(bad, "001195004211")


async def test_local_registry_answers_only_for_the_registered_pair(db: asyncpg.Pool) -> None:
    await add_person(db, Person("001195004211", "Nguyễn Thị Hồng Nhung", date(1995, 4, 21), phone="+84912000001"))
    carrier = LocalSubscriberRegistry(db)
    assert await carrier.is_registered_to("+84912000001", "001195004211")
    assert not await carrier.is_registered_to("+84912000001", "001088012345")
    assert not await carrier.is_registered_to("+84912000002", "001195004211")
