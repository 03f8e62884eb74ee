"""Notices about a child's account (under 14, managed by a guardian) reach the guardian too:
in the guardian's inbox and on the guardian's devices, in the guardian's language, marked as
about the child, and with no name of the child in the push."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from notifications.channels.push import read_dev_push
from tests.accounts.family import family_at_level_2, link
from tests.notifications.conftest import create_account, create_device, publish_event

CHILD_NAME = "Trần Ngọc Bảo Anh"


async def _child_of(db: asyncpg.Pool, guardian: uuid.UUID, *, until: dt.date | None = None) -> uuid.UUID:
    child = await create_account(db, language="vi")
    person_id = await db.fetchval("SELECT person_id FROM accounts WHERE id = $1", child)
    await db.execute(
        """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin,
                                   residence_address, residence_province)
           VALUES ($1, $2, '2017-03-02', 'female', 'Hà Nội', 'Hà Nội', '001')""",
        person_id,
        CHILD_NAME,
    )
    await db.execute(
        "INSERT INTO account_guardians (child_account_id, guardian_account_id, until) VALUES ($1, $2, $3)",
        child,
        guardian,
        until,
    )
    return child


async def test_a_document_issued_to_a_child_reaches_the_guardian_in_the_guardians_language(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    deliver: Any,
    citizen_headers: Any,
) -> None:
    guardian = await create_account(db, language="en")
    _, token = await create_device(db, guardian, platform="fcm")
    child = await _child_of(db, guardian, until=dt.date.today() + dt.timedelta(days=365))
    document = str(uuid.uuid4())
    await publish_event(
        db, "document.issued", {"account_id": str(child), "document_id": document, "doc_type": "birth_certificate"}
    )
    assert await consume() == 1

    # The child's own inbox, in the child's language, not marked.
    [own] = (await client.get("/v1/notifications", headers=await citizen_headers(child))).json()["items"]
    assert own["title"] == "Giấy tờ mới" and own["about"] is None

    # The guardian's copy: English, marked with the child's name, opening the child's document.
    page = (await client.get("/v1/notifications", headers=await citizen_headers(guardian))).json()
    [copy] = page["items"]
    assert page["unread"] == 1
    assert copy["kind"] == "document.issued"
    assert copy["about"] == {"account_id": str(child), "name": CHILD_NAME}
    assert copy["title"] == f"[{CHILD_NAME}] New document"
    assert copy["body"].startswith(f"About {CHILD_NAME}'s account (you are the guardian): Your ")
    assert copy["ref"] == {"type": "document", "id": document}
    assert copy["seq"] == 1  # the guardian's own inbox order
    one = await client.get(f"/v1/notifications/{copy['id']}", headers=await citizen_headers(guardian))
    assert one.json() == copy

    # The guardian's phone gets a push that says it is about their child, without the name.
    await deliver("fcm")
    [push] = await read_dev_push(redis, str(token))
    assert push["title"] == "About your child's account: A new document is in your wallet"
    assert push["data"] == {"notification_id": str(copy["id"]), "category": "documents"}
    raw = json.dumps(push, ensure_ascii=False)
    assert CHILD_NAME not in raw and str(child) not in raw and document not in raw


async def test_payments_and_document_checks_are_forwarded_and_the_guardians_choices_apply(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    deliver: Any,
    citizen_headers: Any,
) -> None:
    guardian = await create_account(db, language="vi")
    _, token = await create_device(db, guardian, platform="fcm")
    child = await _child_of(db, guardian)
    headers = await citizen_headers(guardian)
    # The guardian turned off pushes about document checks (for every account they see).
    r = await client.put(
        "/v1/notifications/preferences",
        json={"categories": {"document_checks": {"push": False, "sms": False}}},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    await publish_event(
        db,
        "payment.succeeded",
        {"account_id": str(child), "payment_id": str(uuid.uuid4()), "amount": 300000, "programme_name": "Trợ cấp"},
    )
    await publish_event(
        db,
        "document.viewed",
        {
            "account_id": str(child),
            "document_id": str(uuid.uuid4()),
            "doc_type": "birth_certificate",
            "verifier_org_id": "verifier-bach-mai",
            "verifier_name": "Bệnh viện Bạch Mai",
            "fields": ["full_name"],
        },
    )
    assert await consume() == 2
    items = (await client.get("/v1/notifications", headers=headers)).json()["items"]
    assert [(i["kind"], i["title"]) for i in items] == [
        ("document.viewed", f"[{CHILD_NAME}] Giấy tờ vừa được kiểm tra"),
        ("payment.succeeded", f"[{CHILD_NAME}] Đã nhận tiền"),
    ]
    assert all(i["about"]["account_id"] == str(child) for i in items)
    assert items[1]["body"].startswith(f"Về tài khoản của {CHILD_NAME} (bạn là người giám hộ): Bạn đã nhận 300.000 ₫")
    await deliver("fcm")
    pushes = await read_dev_push(redis, str(token))
    assert [p["title"] for p in pushes] == ["Về tài khoản của con bạn: Bạn vừa nhận một khoản thanh toán"]


async def test_nothing_is_forwarded_once_the_guardianship_has_ended(
    client: httpx.AsyncClient, db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    guardian = await create_account(db)
    child = await _child_of(db, guardian, until=dt.date.today())  # turned 14 today
    await publish_event(db, "account.level_raised", {"account_id": str(child), "level": 2})
    assert await consume() == 1
    assert (await client.get("/v1/notifications", headers=await citizen_headers(guardian))).json()["items"] == []
    assert len((await client.get("/v1/notifications", headers=await citizen_headers(child))).json()["items"]) == 1


async def test_a_redelivered_event_gives_the_guardian_one_copy(
    client: httpx.AsyncClient, db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    guardian = await create_account(db)
    child = await _child_of(db, guardian)
    payment = str(uuid.uuid4())
    payload = {"account_id": str(child), "payment_id": payment, "amount": 1000, "programme_name": "Trợ cấp"}
    await publish_event(db, "payment.succeeded", payload)
    await publish_event(db, "payment.succeeded", payload)  # the same payment again (natural key)
    assert await consume() == 2
    items = (await client.get("/v1/notifications", headers=await citizen_headers(guardian))).json()["items"]
    assert len(items) == 1


async def test_both_parents_who_linked_get_copies_until_the_guardianship_ends(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    citizen_headers: Any,
    mint: Any,
) -> None:
    family = await family_at_level_2(client, redis, db, mint)
    child = uuid.UUID((await link(client, family.mum, family.child)).json()["account_id"])
    assert (await link(client, family.dad, family.child)).status_code == 201
    parents = [uuid.UUID(p.account_id or "") for p in (family.mum, family.dad)]
    await consume()  # the parents' own notices (level 2)

    async def copies(parent: uuid.UUID) -> list[dict[str, Any]]:
        items = (await client.get("/v1/notifications", headers=await citizen_headers(parent))).json()["items"]
        return [i for i in items if i["about"] is not None]

    payload = {"account_id": str(child), "payment_id": str(uuid.uuid4()), "amount": 1000, "programme_name": "Trợ cấp"}
    await publish_event(db, "payment.succeeded", payload)
    assert await consume() == 1
    for parent in parents:
        [copy] = await copies(parent)
        assert copy["about"] == {"account_id": str(child), "name": family.child.full_name}
    # From the end of the guardianship on, neither parent is told.
    await db.execute("UPDATE account_guardians SET until = current_date WHERE child_account_id = $1", child)
    await publish_event(db, "account.level_raised", {"account_id": str(child), "level": 2})
    assert await consume() == 1
    for parent in parents:
        assert [i["kind"] for i in await copies(parent)] == ["payment.succeeded"]
    assert len((await client.get("/v1/notifications", headers=await citizen_headers(child))).json()["items"]) == 2


async def test_a_parent_is_told_when_another_parent_links_to_their_childs_account(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    deliver: Any,
    citizen_headers: Any,
    mint: Any,
) -> None:
    family = await family_at_level_2(client, redis, db, mint)
    mum, dad = (uuid.UUID(p.account_id or "") for p in (family.mum, family.dad))
    _, token = await create_device(db, mum, platform="fcm")

    async def told(parent: uuid.UUID) -> list[dict[str, Any]]:
        items = (await client.get("/v1/notifications", headers=await citizen_headers(parent))).json()["items"]
        return [i for i in items if i["kind"] == "account.guardian_linked"]

    child = (await link(client, family.mum, family.child)).json()["account_id"]
    await consume()
    assert await told(mum) == []  # the first parent has nobody to tell
    await deliver("fcm")
    before = len(await read_dev_push(redis, str(token)))

    assert (await link(client, family.dad, family.child)).status_code == 201
    assert await consume() == 1
    [notice] = await told(mum)
    assert notice["category"] == "security" and notice["about"] is None
    assert notice["ref"] == {"type": "child_account", "id": child}  # the app finds it in /v1/me/children
    assert notice["title"] == "Phụ huynh khác đã liên kết"
    assert await told(dad) == []

    # The push says what happened and names nobody.
    await deliver("fcm")
    pushes = await read_dev_push(redis, str(token))
    assert len(pushes) == before + 1
    push = pushes[0]
    assert push["title"] == "Một phụ huynh khác vừa liên kết với tài khoản của con bạn"
    assert push["data"] == {"notification_id": str(notice["id"]), "category": "security"}
    raw = json.dumps(push, ensure_ascii=False)
    for personal in (family.child.full_name, child, str(dad), str(mum), family.child.person_id):
        assert personal not in raw

    # Linking again, or a link refused, tells nobody anything.
    assert (await link(client, family.dad, family.child)).status_code == 201
    await db.execute("UPDATE account_guardians SET until = current_date WHERE guardian_account_id = $1", dad)
    refused = await link(client, family.dad, family.child)
    assert refused.status_code == 409 and refused.json()["type"].endswith("guardianship-ended")
    assert await consume() == 0
    assert len(await told(mum)) == 1 and await told(dad) == []
