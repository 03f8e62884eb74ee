"""Recovery from squatting: the owner takes their identity back by chip + face, or at a police desk."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from documents.presentation import code_keys, store_code
from notifications.channels.sms.local import read_dev_sms
from proofing.devchip import selfie
from tests.accounts.conftest import Person, last_code, sign_in
from tests.accounts.conftest import Phone as App
from tests.proofing.conftest import MINH, NHUNG, SQUATTER_PHONE, Pki, squat
from tests.proofing.phone import upload
from wallet_api.audit import verify_chain
from wallet_api.auth.principal import Principal

pytestmark = pytest.mark.usefixtures("chip_trust_dir")

POLICE = Principal(kind="officer", subject="7d3c0f8e-0000-4000-8000-000000000001", org_id="police-hanoi",
                   roles=frozenset({"police_officer"}))  # fmt: skip
CHECKED = {"chip_card_checked": True, "biometrics_checked": True}


async def squatted_account(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, victim: Person
) -> tuple[App, str]:
    """Nhung's identity held by a squatter, with a wallet link and an open presentation code."""
    squatter = await squat(client, redis, db, victim)
    await db.execute(
        """INSERT INTO wallet_links (account_id, provider, wallet_account, state, is_default, activated_at)
           VALUES ($1::uuid, 'momo', '0987000111', 'active', true, now())""",
        squatter.account_id,
    )
    code = await store_code(
        redis,
        document_id=uuid.uuid4(),
        fields=["full_name"],
        account_id=str(squatter.account_id),
        device_id=squatter.device_id,
        verifier_org_id=None,
        ttl=180,
    )
    return squatter, code


async def start_recovery(client: httpx.AsyncClient, person: Person, phone: str) -> dict[str, Any]:
    r = await client.post("/v1/proofing/recoveries", json={"person_id": person.person_id, "phone": phone})
    assert r.status_code == 202, r.text
    return dict(r.json())


async def complete_recovery(
    client: httpx.AsyncClient,
    redis: aioredis.Redis,
    started: dict[str, Any],
    phone: str,
    body: dict[str, Any],
    app: App,
) -> httpx.Response:
    code = await last_code(redis, phone)
    payload = {
        **body,
        "code": code or "000000",
        "password": "a new password of mine",
        "device": app.device_body(),
        "signature": app.sign(f"citizen-wallet:bind:{started['recovery_id']}"),
    }
    return await client.post(f"/v1/proofing/recoveries/{started['recovery_id']}/complete", json=payload)


async def test_the_owner_takes_a_squatted_identity_back_with_chip_and_face(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, pki: Pki
) -> None:
    squatter, code = await squatted_account(client, redis, db, nhung)
    # Nhung on a new phone, with her own number: she never needs the squatter's phone or password.
    started = await start_recovery(client, nhung, nhung.phone)
    mine = App(name="Nhung's phone")
    challenge = {"challenge_id": started["challenge_id"], "challenge": started["challenge"]}
    r = await complete_recovery(client, redis, started, nhung.phone, upload(pki.chip(NHUNG), challenge), mine)
    assert r.status_code == 201, r.text
    mine.take(r.json())
    assert r.json()["level"] == 2 and mine.account_id == squatter.account_id

    account = await db.fetchrow("SELECT phone, level FROM accounts WHERE id = $1::uuid", mine.account_id)
    assert (account["phone"], account["level"]) == (nhung.phone, 2)
    devices = await db.fetch(
        "SELECT id FROM devices WHERE account_id = $1::uuid AND revoked_at IS NULL", mine.account_id
    )
    assert [str(d["id"]) for d in devices] == [mine.device_id]
    # The squatter is out: no sign-in, no refresh, no open code, the wallet link frozen.
    assert (await sign_in(client, squatter)).status_code == 401
    refreshed = await client.post("/v1/auth/refresh", json={"refresh_token": squatter.refresh_token})
    assert refreshed.status_code == 401
    assert await redis.exists(code_keys(code)[0]) == 0
    link = await db.fetchrow(
        "SELECT state, review_reason FROM wallet_links WHERE account_id = $1::uuid", mine.account_id
    )
    assert (link["state"], link["review_reason"]) == ("under_review", "identity_recovered")
    # The old phone is told.
    assert any("trả lại cho chủ sở hữu" in str(m["text"]) for m in await read_dev_sms(redis, SQUATTER_PHONE))
    # Every step is in the audit chain, and the chain holds.
    actions = [r["action"] for r in await db.fetch("SELECT action FROM audit_log ORDER BY seq")]
    for step in ("device.revoked", "wallet_link.frozen", "account.level_raised", "account.recovered",
                 "device.bound", "account.recovery_notified"):  # fmt: skip
        assert step in actions
    notified = await db.fetchrow("SELECT details FROM audit_log WHERE action = 'account.recovery_notified'")
    assert notified["details"] == {"presentation_codes_burnt": 1, "old_phone_told": True}
    async with db.acquire() as conn:
        checked, broken = await verify_chain(conn)
    assert broken is None and checked == len(actions)
    # She signs in on her phone at level 2 from now on.
    assert (await sign_in(client, mine)).json()["level"] == 2


async def test_the_squatter_cannot_recover_the_identity_without_the_owners_chip_and_face(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, minh: Person, pki: Pki
) -> None:
    squatter, _ = await squatted_account(client, redis, db, nhung)
    for chip, face, slug in (
        (pki.chip(MINH), selfie(MINH.person_id), "chip-not-account-holder"),
        (pki.chip(NHUNG), selfie(MINH.person_id), "face-mismatch"),
    ):
        # The squatter's SIM is registered to Nhung's number, so the code does arrive.
        started = await start_recovery(client, nhung, SQUATTER_PHONE)
        challenge = {"challenge_id": started["challenge_id"], "challenge": started["challenge"]}
        body = upload(chip, challenge, face=face)
        r = await complete_recovery(client, redis, started, SQUATTER_PHONE, body, App())
        assert r.json()["type"].endswith(f"/{slug}"), r.text
    devices = await db.fetchval(
        "SELECT count(*) FROM devices WHERE account_id = $1::uuid AND revoked_at IS NULL", squatter.account_id
    )
    assert devices == 1
    assert await db.fetchval("SELECT level FROM accounts WHERE id = $1::uuid", squatter.account_id) == 1
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'account.recovered'") == 0


async def test_recovery_start_reveals_nothing_and_texts_only_the_sim_owner(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, minh: Person, pki: Pki
) -> None:
    await squatted_account(client, redis, db, nhung)
    answers = [
        await start_recovery(client, nhung, minh.phone),  # Minh's own SIM: not Nhung's
        await start_recovery(client, minh, minh.phone),  # Minh has no account
    ]
    assert all(set(a) == {"recovery_id", "challenge_id", "challenge", "expires_in", "message"} for a in answers)
    assert len({a["message"] for a in answers}) == 1
    assert await read_dev_sms(redis, minh.phone) == []
    started = answers[0]
    challenge = {"challenge_id": started["challenge_id"], "challenge": started["challenge"]}
    r = await complete_recovery(client, redis, started, minh.phone, upload(pki.chip(NHUNG), challenge), App())
    assert r.status_code == 401 and r.json()["type"].endswith("/invalid-code")


async def test_police_give_the_identity_back_and_the_owner_binds_their_phone(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, mint: Any
) -> None:
    squatter, code = await squatted_account(client, redis, db, nhung)
    r = await client.post(
        "/v1/identity/rebind",
        json={"person_id": nhung.person_id, "phone": nhung.phone, **CHECKED},
        headers=await mint(POLICE),
    )
    assert r.status_code == 200, r.text
    rebind = r.json()
    assert rebind["account_id"] == squatter.account_id and rebind["level"] == 2
    assert (await sign_in(client, squatter)).status_code == 401
    assert await redis.exists(code_keys(code)[0]) == 0
    mine = App(name="Nhung's phone")
    sms_code = await last_code(redis, nhung.phone)
    r = await client.post(
        f"/v1/proofing/rebinds/{rebind['rebind_id']}/complete",
        json={
            "code": sms_code,
            "password": "a new password of mine",
            "device": mine.device_body(),
            "signature": mine.sign(f"citizen-wallet:bind:{rebind['rebind_id']}"),
        },
    )
    assert r.status_code == 201, r.text
    mine.take(r.json())
    assert (await sign_in(client, mine)).json()["level"] == 2
    recovered = await db.fetchrow("SELECT actor, details FROM audit_log WHERE action = 'account.recovered'")
    assert recovered["actor"] == f"officer:{POLICE.subject}" and recovered["details"]["via"] == "police"


async def test_police_rebinding_needs_both_checks_and_the_persons_own_sim(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, minh: Person, mint: Any
) -> None:
    squatter, _ = await squatted_account(client, redis, db, nhung)
    police = await mint(POLICE)
    half = {"person_id": nhung.person_id, "phone": nhung.phone, "chip_card_checked": True, "biometrics_checked": False}
    r = await client.post("/v1/identity/rebind", json=half, headers=police)
    assert r.json()["type"].endswith("/in-person-check-incomplete")
    r = await client.post(
        "/v1/identity/rebind", json={"person_id": nhung.person_id, "phone": minh.phone, **CHECKED}, headers=police
    )
    assert r.status_code == 422 and r.json()["type"].endswith("/phone-not-sim-owner")
    for headers in ({}, squatter.headers, await mint(kind="officer", subject=str(uuid.uuid4()), org_id="x")):
        r = await client.post(
            "/v1/identity/rebind", json={"person_id": nhung.person_id, "phone": nhung.phone, **CHECKED}, headers=headers
        )
        assert r.status_code in (401, 403)
    assert (await sign_in(client, squatter)).status_code == 200
