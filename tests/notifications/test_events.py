"""Each outbox event becomes the right inbox entry and push, in Vietnamese and in English."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from notifications.channels.push import read_dev_push
from notifications.channels.sms.local import read_dev_sms
from tests.notifications.conftest import create_account, create_device, publish_event

DOC = str(uuid.uuid4())
PAYMENT = str(uuid.uuid4())
LINK = str(uuid.uuid4())

# topic, payload (without account_id), language -> (title, body fragment, push title, action code)
CASES: list[tuple[str, dict[str, Any], dict[str, tuple[str, str, str, str | None]]]] = [
    (
        "payment.succeeded",
        {"payment_id": PAYMENT, "amount": 1500000, "programme_name": "Trợ cấp xã hội hằng tháng"},
        {
            "vi": (
                "Đã nhận tiền",
                "Bạn đã nhận 1.500.000 ₫ từ Trợ cấp xã hội hằng tháng",
                "Bạn vừa nhận một khoản thanh toán",
                None,
            ),
            "en": (
                "Payment received",
                "You received 1,500,000 VND from Trợ cấp xã hội hằng tháng",
                "You have received a payment",
                None,
            ),
        },
    ),
    (
        "payment.held",
        {"payment_id": PAYMENT, "amount": 100000, "programme_name": "Quà Quốc khánh", "reason": "no_wallet"},
        {
            "vi": (
                "Khoản thanh toán đang chờ",
                "bạn chưa liên kết ví điện tử",
                "Một khoản thanh toán đang chờ bạn",
                "link_wallet",
            ),
            "en": (
                "Payment on hold",
                "100,000 VND from Quà Quốc khánh is on hold because you have no linked e-wallet",
                "A payment is waiting for you",
                "link_wallet",
            ),
        },
    ),
    (
        "document.issued",
        {"document_id": DOC, "doc_type": "driving_licence"},
        {
            "vi": ("Giấy tờ mới", "Giấy phép lái xe của bạn đã được cấp", "Có giấy tờ mới trong ví của bạn", None),
            "en": ("New document", "Your driving licence has been issued", "A new document is in your wallet", None),
        },
    ),
    (
        "document.updated",
        {"document_id": DOC, "doc_type": "vehicle_registration"},
        {
            "vi": (
                "Giấy tờ được cập nhật",
                "Giấy chứng nhận đăng ký xe của bạn",
                "Một giấy tờ trong ví đã được cập nhật",
                None,
            ),
            "en": (
                "Document updated",
                "updated your vehicle registration",
                "A document in your wallet was updated",
                None,
            ),
        },
    ),
    (
        "document.suspended",
        {"document_id": DOC, "doc_type": "driving_licence"},
        {
            "vi": ("Giấy tờ bị tạm đình chỉ", "đang bị tạm đình chỉ", "Một giấy tờ trong ví bị tạm đình chỉ", None),
            "en": (
                "Document suspended",
                "Your driving licence is suspended",
                "A document in your wallet was suspended",
                None,
            ),
        },
    ),
    (
        "document.reinstated",
        {"document_id": DOC, "doc_type": "driving_licence"},
        {
            "vi": (
                "Giấy tờ có hiệu lực trở lại",
                "đã có hiệu lực trở lại",
                "Một giấy tờ trong ví có hiệu lực trở lại",
                None,
            ),
            "en": (
                "Document reinstated",
                "Your driving licence is valid again",
                "A document in your wallet is valid again",
                None,
            ),
        },
    ),
    (
        "document.revoked",
        {"document_id": DOC, "doc_type": "health_insurance_card"},
        {
            "vi": (
                "Giấy tờ bị thu hồi",
                "Thẻ bảo hiểm y tế của bạn đã bị cơ quan cấp thu hồi",
                "Một giấy tờ trong ví đã bị thu hồi",
                None,
            ),
            "en": (
                "Document revoked",
                "revoked your health-insurance card",
                "A document in your wallet was revoked",
                None,
            ),
        },
    ),
    (
        "document.expiring",
        {"document_id": DOC, "doc_type": "chip_id_card", "expires_on": "2026-12-23"},
        {
            "vi": (
                "Giấy tờ sắp hết hạn",
                "Thẻ căn cước của bạn sẽ hết hạn vào ngày 23/12/2026",
                "Một giấy tờ trong ví sắp hết hạn",
                "renew_document",
            ),
            "en": (
                "Document expiring",
                "Your chip ID card expires on 23 Dec 2026",
                "A document in your wallet expires soon",
                "renew_document",
            ),
        },
    ),
    (
        "document.viewed",
        {
            "document_id": DOC,
            "doc_type": "driving_licence",
            "verifier_org_id": "csgt-hn",
            "verifier_name": "Phòng CSGT Hà Nội",
            "fields": ["full_name", "classes", "expiry_date"],
        },
        {
            "vi": (
                "Giấy tờ vừa được kiểm tra",
                "Phòng CSGT Hà Nội đã kiểm tra Giấy phép lái xe của bạn và xem: Họ và tên, Hạng, Có giá trị đến",
                "Một giấy tờ của bạn vừa được kiểm tra",
                None,
            ),
            "en": (
                "Document checked",
                "Phòng CSGT Hà Nội checked your driving licence and saw: full name, classes, valid until",
                "One of your documents was checked",
                None,
            ),
        },
    ),
    (
        "account.device_bound",
        {"device_id": str(uuid.uuid4()), "device_name": "iPhone của Lan"},
        {
            "vi": (
                "Đăng nhập trên thiết bị mới",
                "đăng nhập trên một thiết bị mới",
                "Tài khoản của bạn vừa đăng nhập trên thiết bị mới",
                "review_devices",
            ),
            "en": (
                "New device signed in",
                "signed in on a new device",
                "Your account was signed in on a new device",
                "review_devices",
            ),
        },
    ),
    (
        "wallet.payout_changed",
        {"link_id": LINK, "provider": "momo", "hold_until": "2026-11-26T01:30:00+00:00"},
        {
            "vi": (
                "Ví nhận tiền đã thay đổi",
                "đổi sang MoMo. Để bảo vệ bạn, các khoản chi trả vào ví này được tạm giữ đến 08:30 ngày 26/11/2026",
                "Ví nhận tiền của bạn đã thay đổi",
                "review_wallets",
            ),
            "en": (
                "Payout wallet changed",
                "paid into MoMo. To protect you, payouts to it are held until 08:30 on 26 Nov 2026 (Vietnam time)",
                "Your payout wallet has changed",
                "review_wallets",
            ),
        },
    ),
    (
        "account.level_raised",
        {"level": 2},
        {
            "vi": ("Tài khoản đã được nâng mức", "đã được nâng lên mức 2", "Tài khoản của bạn đã được nâng mức", None),
            "en": ("Account level raised", "is now level 2", "Your account level was raised", None),
        },
    ),
    (
        "wallet.link_state",
        {"link_id": LINK, "provider": "zalopay", "state": "refused", "reason": "name_mismatch"},
        {
            "vi": (
                "Không liên kết được ví",
                "Không thể liên kết ví ZaloPay: tên chủ ví không khớp với tên của bạn",
                "Liên kết ví điện tử không thành công",
                "link_wallet",
            ),
            "en": (
                "E-wallet not linked",
                "Your ZaloPay wallet could not be linked: the wallet owner's name does not match yours",
                "An e-wallet link did not succeed",
                "link_wallet",
            ),
        },
    ),
]


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(("topic", "payload", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_event_becomes_inbox_entry_and_push_in_the_account_language(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    consume: Any,
    deliver: Any,
    citizen_headers: Any,
    topic: str,
    payload: dict[str, Any],
    expected: dict[str, tuple[str, str, str, str | None]],
    language: str,
) -> None:
    title, body, push_title, action = expected[language]
    account = await create_account(db, language=language)
    _, token = await create_device(db, account, platform="fcm")

    await publish_event(db, topic, {"account_id": str(account), **payload})
    assert await consume() == 1

    r = await client.get("/v1/notifications", headers=await citizen_headers(account))
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["kind"] == topic
    assert item["title"] == title
    assert body in item["body"]
    assert (item["action"] or {}).get("code") == action
    assert r.json()["unread"] == 1

    await deliver("fcm")
    [push] = await read_dev_push(redis, str(token))
    assert push["title"] == push_title
    assert push["data"] == {"notification_id": str(item["id"]), "category": item["category"]}
    # Nothing from the payload leaks into the push: no amounts, names, fields or ids.
    raw = json.dumps({"title": push["title"], "data": push["data"]}, ensure_ascii=False)
    for value in payload.values():
        for part in value if isinstance(value, list) else [value]:
            assert len(str(part)) < 4 or str(part) not in raw


async def test_a_redelivered_event_does_not_duplicate_the_notice(
    client: httpx.AsyncClient, db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db)
    await create_device(db, account)
    payload = {"account_id": str(account), "document_id": DOC, "doc_type": "driving_licence"}
    await publish_event(db, "document.issued", payload)
    await consume()
    # At-least-once: the same event handled again (lease expired after the work was done).
    await db.execute(
        "UPDATE outbox SET state = 'pending', available_at = now(), lease_owner = NULL"
        " WHERE consumer = 'notifications.inbox'"
    )
    await consume()

    r = await client.get("/v1/notifications", headers=await citizen_headers(account))
    assert len(r.json()["items"]) == 1
    assert await db.fetchval("SELECT count(*) FROM notification_deliveries") == 1


async def test_an_event_for_an_unknown_account_is_dead_lettered(db: asyncpg.Pool, consume: Any) -> None:
    await publish_event(db, "account.level_raised", {"account_id": str(uuid.uuid4()), "level": 2})
    await consume()
    assert await db.fetchval("SELECT state FROM outbox WHERE consumer = 'notifications.inbox'") == "dead"
    assert await db.fetchval("SELECT count(*) FROM notifications") == 0


async def test_a_malformed_event_is_dead_lettered_and_does_not_block_the_batch(db: asyncpg.Pool, consume: Any) -> None:
    account = await create_account(db)
    await publish_event(db, "document.issued", {"account_id": "not-a-uuid", "document_id": DOC})
    await publish_event(db, "document.issued", {"account_id": str(account), "document_id": DOC, "doc_type": "x"})
    await consume()
    states = [
        r["state"]
        for r in await db.fetch("SELECT state FROM outbox WHERE consumer = 'notifications.inbox' ORDER BY id")
    ]
    assert states == ["dead", "done"]
    assert await db.fetchval("SELECT count(*) FROM notifications") == 1


async def test_new_device_notice_goes_to_the_other_devices_and_by_sms(
    db: asyncpg.Pool, redis: aioredis.Redis, consume: Any, deliver: Any
) -> None:
    account = await create_account(db, phone="0912345678")
    _, old_token = await create_device(db, account, platform="apns")
    new_device, new_token = await create_device(db, account, platform="fcm")
    await publish_event(
        db, "account.device_bound", {"account_id": str(account), "device_id": str(new_device), "device_name": "Máy mới"}
    )
    await consume()
    await deliver("apns")
    await deliver("fcm")
    await deliver("sms")

    assert len(await read_dev_push(redis, str(old_token))) == 1
    assert await read_dev_push(redis, str(new_token)) == []
    [sms] = await read_dev_sms(redis, "0912345678")
    assert "thiet bi moi" in str(sms["text"])
    assert "Máy mới" not in str(sms["text"])


async def test_a_closed_account_gets_nothing(db: asyncpg.Pool, consume: Any) -> None:
    account = await create_account(db)
    await db.execute("UPDATE accounts SET state = 'closed' WHERE id = $1", account)
    await publish_event(db, "account.level_raised", {"account_id": str(account), "level": 2})
    await consume()
    assert await db.fetchval("SELECT state FROM outbox WHERE consumer = 'notifications.inbox'") == "done"
    assert await db.fetchval("SELECT count(*) FROM notifications") == 0


async def test_an_unknown_document_type_is_shown_by_its_code(
    client: httpx.AsyncClient, db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db, language="en")
    await publish_event(
        db, "document.issued", {"account_id": str(account), "document_id": DOC, "doc_type": "fishing_permit"}
    )
    await consume()
    r = await client.get("/v1/notifications", headers=await citizen_headers(account))
    assert "Your fishing permit has been issued" in r.json()["items"][0]["body"]


async def test_a_document_for_someone_without_an_account_is_no_notice_and_no_dead_letter(
    db: asyncpg.Pool, consume: Any
) -> None:
    await publish_event(db, "document.issued", {"account_id": None, "document_id": DOC, "doc_type": "driving_licence"})
    await consume()
    assert await db.fetchval("SELECT state FROM outbox WHERE consumer = 'notifications.inbox'") == "done"
    assert await db.fetchval("SELECT count(*) FROM notifications") == 0


async def test_the_new_device_notice_never_carries_the_name_its_binder_chose(
    client: httpx.AsyncClient, db: asyncpg.Pool, consume: Any, mint: Any
) -> None:
    """Whoever binds a device names it: a notice quoting it would carry an attacker's words."""
    account = await create_account(db)
    device, _ = await create_device(db, account)
    lure = 'Máy mới". Đây là kiểm tra của công an, đừng gỡ thiết bị. Gọi 0900000000'
    await publish_event(
        db, "account.device_bound", {"account_id": str(account), "device_id": str(device), "device_name": lure}
    )
    await consume()
    for language in ("vi", "en"):
        await db.execute("UPDATE accounts SET language = $2 WHERE id = $1", account, language)
        headers = await mint(kind="citizen", subject=str(account), level=2, device_id=str(device))
        r = await client.get("/v1/notifications", headers=headers)
        [item] = r.json()["items"]
        assert "0900000000" not in json.dumps(item, ensure_ascii=False)
    assert "0900000000" not in json.dumps([dict(r) for r in await db.fetch("SELECT params FROM notifications")])
