"""Level 2 in the app: a level-1 citizen proves themselves with the chip ID card and a selfie."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from proofing.devchip import Holder, make_chip, portrait, selfie
from tests.accounts.conftest import Person, register, sign_in
from tests.proofing.conftest import MINH, NHUNG, Pki, squat
from tests.proofing.phone import challenge, upload

pytestmark = pytest.mark.usefixtures("chip_trust_dir")


async def level_of(db: asyncpg.Pool, account_id: str | None) -> int:
    return int(await db.fetchval("SELECT level FROM accounts WHERE id = $1::uuid", account_id))


async def refused_reasons(db: asyncpg.Pool) -> list[str]:
    rows = await db.fetch("SELECT details FROM audit_log WHERE action = 'proofing.refused' ORDER BY seq")
    return [r["details"]["reason"] for r in rows]


async def test_level_1_citizen_reaches_level_2_with_chip_and_face(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, pki: Pki
) -> None:
    app = await register(client, redis, nhung)
    assert (await client.get("/v1/me", headers=app.headers)).json()["level"] == 1
    body = upload(pki.chip(NHUNG), await challenge(client, app.headers))
    r = await client.post("/v1/proofing/chip-proofs", json=body, headers=app.headers)
    assert r.status_code == 200, r.text
    assert r.json()["level"] == 2
    assert await level_of(db, app.account_id) == 2
    audit = await db.fetchrow("SELECT actor, details FROM audit_log WHERE action = 'account.level_raised'")
    assert audit["actor"] == f"citizen:{app.account_id}"
    assert audit["details"]["via"] == "chip+face" and audit["details"]["face_score"] >= 0.75
    # The next sign-in carries level 2.
    assert (await sign_in(client, app)).json()["level"] == 2


async def test_the_selfie_and_chip_data_are_not_stored(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, pki: Pki
) -> None:
    app = await register(client, redis, nhung)
    body = upload(pki.chip(NHUNG), await challenge(client, app.headers))
    headers = {**app.headers, "Idempotency-Key": "chip-proof-1"}
    assert (await client.post("/v1/proofing/chip-proofs", json=body, headers=headers)).status_code == 200
    fragments = [body["selfie"][100:140], body["chip"]["dg2"][200:240], body["chip"]["sod"][100:140]]
    dump = " ".join(
        str(r[0]) for r in await db.fetch("SELECT row_to_json(t)::text FROM (SELECT * FROM audit_log) t")
    ) + " ".join(str(r[0]) for r in await db.fetch("SELECT row_to_json(t)::text FROM (SELECT * FROM outbox) t"))
    dump += " ".join(str(r[0]) for r in await db.fetch("SELECT row_to_json(t)::text FROM idempotency_keys t"))
    for key in await redis.keys("*"):
        if await redis.type(key) == b"string":
            dump += str(await redis.get(key))
    assert not any(f in dump for f in fragments)


async def test_a_squatter_cannot_use_their_own_chip_or_the_victims_card(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, minh: Person, pki: Pki
) -> None:
    """Minh registered Nhung's identity on his phone; neither his chip nor her card (with his face) lifts it."""
    squatter = await squat(client, redis, db, nhung)
    own_chip = upload(pki.chip(MINH), await challenge(client, squatter.headers))
    r = await client.post("/v1/proofing/chip-proofs", json=own_chip, headers=squatter.headers)
    assert r.status_code == 403
    assert r.json()["type"].endswith("/chip-not-account-holder")
    stolen_card = upload(pki.chip(NHUNG), await challenge(client, squatter.headers), face=selfie(MINH.person_id))
    r = await client.post("/v1/proofing/chip-proofs", json=stolen_card, headers=squatter.headers)
    assert r.status_code == 422
    assert r.json()["type"].endswith("/face-mismatch")
    assert await level_of(db, squatter.account_id) == 1
    assert await refused_reasons(db) == ["chip-not-account-holder", "face-mismatch"]


async def test_a_challenge_is_single_use_and_only_for_its_account(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, minh: Person, pki: Pki
) -> None:
    app = await register(client, redis, nhung)
    other = await register(client, redis, minh)
    minhs_challenge = await challenge(client, other.headers)
    r = await client.post(
        "/v1/proofing/chip-proofs", json=upload(pki.chip(NHUNG), minhs_challenge), headers=app.headers
    )
    assert r.json()["type"].endswith("/chip-challenge-invalid")
    mine = await challenge(client, app.headers)
    body = upload(pki.chip(NHUNG), mine, face=portrait(NHUNG.person_id))  # fails: not live
    assert (await client.post("/v1/proofing/chip-proofs", json=body, headers=app.headers)).status_code == 422
    replay = upload(pki.chip(NHUNG), mine)
    r = await client.post("/v1/proofing/chip-proofs", json=replay, headers=app.headers)
    assert r.status_code == 409
    assert r.json()["type"].endswith("/chip-challenge-replayed")
    assert await level_of(db, app.account_id) == 1


def _tampered_dg1(pki: Pki) -> dict[str, bytes]:
    dg1 = bytearray(pki.chip(NHUNG).read.dg1)
    dg1[-3] ^= 0x01
    return {"dg1": bytes(dg1)}


@pytest.mark.parametrize(
    ("case", "status", "slug"),
    [
        ("tampered-group", 422, "chip-data-group-hash-mismatch"),
        ("truncated-sod", 422, "chip-data-truncated"),
        ("untrusted-signer", 422, "document-signer-untrusted"),
        ("expired-signer", 422, "document-signer-expired"),
        ("revoked-signer", 422, "document-signer-revoked"),
        ("cloned-chip", 422, "active-authentication-failed"),
        ("registry-disagrees", 422, "chip-registry-mismatch"),
        ("photo-of-photo", 422, "face-liveness-failed"),
        ("not-an-image", 422, "face-image-invalid"),
        ("oversized-sod", 422, "chip-data-oversized"),
    ],
)
async def test_every_bad_upload_has_its_own_problem_and_changes_nothing(
    client: httpx.AsyncClient,
    redis: aioredis.Redis,
    db: asyncpg.Pool,
    nhung: Person,
    pki: Pki,
    case: str,
    status: int,
    slug: str,
) -> None:
    app = await register(client, redis, nhung)
    c = await challenge(client, app.headers)
    chip = pki.chip(NHUNG)
    bodies: dict[str, Any] = {
        "tampered-group": lambda: upload(chip, c, **_tampered_dg1(pki)),
        "truncated-sod": lambda: upload(chip, c, sod=chip.read.sod[:-40]),
        "untrusted-signer": lambda: upload(pki.chip(NHUNG, signer=pki.stranger), c),
        "expired-signer": lambda: upload(pki.chip(NHUNG, signer=pki.expired_signer), c),
        "revoked-signer": lambda: upload(pki.chip(NHUNG, signer=pki.revoked_signer), c),
        "cloned-chip": lambda: {**upload(chip, c), "chip": upload(pki.chip(NHUNG), c)["chip"]},
        "registry-disagrees": lambda: upload(
            make_chip(Holder(NHUNG.person_id, "Nguyễn Thị Hồng Nhàn", NHUNG.date_of_birth), pki.signer), c
        ),
        "photo-of-photo": lambda: upload(chip, c, face=portrait(NHUNG.person_id)),
        "not-an-image": lambda: upload(chip, c, face=b"GIF89a not really"),
        "oversized-sod": lambda: upload(chip, c, sod=chip.read.sod + bytes(20_000)),
    }
    r = await client.post("/v1/proofing/chip-proofs", json=bodies[case](), headers=app.headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == f"https://citizenwallet.vn/problems/{slug}"
    assert await level_of(db, app.account_id) == 1
    assert await refused_reasons(db) == [slug]


async def test_an_upload_over_the_limit_is_refused_before_reading_it(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, pki: Pki
) -> None:
    app = await register(client, redis, nhung)
    body = upload(pki.chip(NHUNG), await challenge(client, app.headers), face=bytes(300_000))
    r = await client.post("/v1/proofing/chip-proofs", json=body, headers=app.headers)
    assert r.status_code == 413
    assert r.json()["type"].endswith("/chip-upload-too-large")
    assert await level_of(db, app.account_id) == 1


async def test_malformed_json_and_base64_are_validation_problems(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person, pki: Pki
) -> None:
    app = await register(client, redis, nhung)
    body = upload(pki.chip(NHUNG), await challenge(client, app.headers))
    body["chip"]["dg1"] = "not base64!"
    r = await client.post("/v1/proofing/chip-proofs", json=body, headers=app.headers)
    assert r.status_code == 422
    assert r.json()["type"].endswith("/validation")


async def test_only_citizens_may_prove(client: httpx.AsyncClient, mint: Any) -> None:
    r = await client.post("/v1/proofing/chip-challenges")
    assert r.status_code == 401
    officer = await mint(kind="officer", subject="00000000-0000-4000-8000-000000000001", org_id="police-hanoi")
    assert (await client.post("/v1/proofing/chip-challenges", headers=officer)).status_code == 403


async def test_documents_open_once_the_chip_and_face_raise_the_account(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person, pki: Pki
) -> None:
    """The whole chain of the issue: registration → SIM check → chip → face → level 2 → documents."""
    app = await register(client, redis, nhung)
    before = (await client.get("/v1/me/documents", headers=app.headers)).json()
    assert before["level"] == 1 and before["locked_because"]["required_level"] == 2
    body = upload(pki.chip(NHUNG), await challenge(client, app.headers))
    assert (await client.post("/v1/proofing/chip-proofs", json=body, headers=app.headers)).status_code == 200
    # The same access token: the level is read from the account, so documents open at once.
    after = (await client.get("/v1/me/documents", headers=app.headers)).json()
    assert after["level"] == 2 and after.get("locked_because") is None
