"""Both registered parents manage their child's account (under 14), and nobody else does.

The second parent links as the first did, with the same proof (the registry names them as the
child's parent; level 2), and a guardian's access ends at the guardianship's end for every
reader. Notices copied to both guardians: tests/notifications/test_guardian.py.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from tests.accounts.conftest import Person, add_person, register, sign_in
from tests.accounts.family import POLICE, children, family_at_level_2, link
from wallet_api import migrate
from wallet_api.accounts.access import managed_account_ids, may_act_for
from wallet_api.auth.principal import Principal
from wallet_api.databases import with_database


def _citizen(account_id: str | None) -> Principal:
    return Principal(kind="citizen", subject=account_id or "", level=2)


async def test_the_second_parent_links_and_manages_the_child_too(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, mint: Any
) -> None:
    family = await family_at_level_2(client, redis, db, mint)
    first = await link(client, family.mum, family.child)
    assert first.status_code == 201, first.text
    # Until now the second parent got 409 child-managed-elsewhere, with no way in.
    second = await link(client, family.dad, family.child)
    assert second.status_code == 201, second.text
    assert second.json()["account_id"] == first.json()["account_id"] and second.json()["managed_by_me"] is True
    child_id = uuid.UUID(first.json()["account_id"])
    for parent in (family.mum, family.dad):
        [listed] = await children(client, parent)
        assert listed["account_id"] == str(child_id) and listed["managed_by_me"] is True
        assert await may_act_for(db, _citizen(parent.account_id), child_id)
        assert await managed_account_ids(db, _citizen(parent.account_id)) == [uuid.UUID(parent.account_id), child_id]
    linked = await db.fetch(
        "SELECT details FROM audit_log WHERE action = 'account.child_linked' AND subject = $1 ORDER BY seq",
        f"account:{child_id}",
    )
    assert [r["details"]["guardian_account_id"] for r in linked] == [family.mum.account_id, family.dad.account_id]
    # Linking again changes nothing.
    assert (await link(client, family.dad, family.child)).status_code == 201
    assert await db.fetchval("SELECT count(*) FROM account_guardians WHERE child_account_id = $1", child_id) == 2


async def test_the_second_parent_needs_level_2_as_the_first_did(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, mint: Any
) -> None:
    family = await family_at_level_2(client, redis, db, mint)
    assert (await link(client, family.mum, family.child)).status_code == 201
    level_one = await mint(kind="citizen", subject=family.dad.account_id, level=1, device_id=family.dad.device_id)
    r = await client.post("/v1/me/children", json={"person_id": family.child.person_id}, headers=level_one)
    assert r.status_code == 403
    [listed] = await children(client, family.dad)
    assert listed["managed_by_me"] is False


async def test_a_stranger_still_cannot_link_or_see_the_child(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, mint: Any
) -> None:
    family = await family_at_level_2(client, redis, db, mint)
    child_id = uuid.UUID((await link(client, family.mum, family.child)).json()["account_id"])
    stranger_person = await add_person(
        db, Person("001090054321", "Lê Thị Thu", date(1990, 5, 4), "female", "+84912000003")
    )
    stranger = await register(client, redis, stranger_person)
    await client.post(
        "/v1/identity/level-2",
        json={"person_id": stranger_person.person_id, "chip_card_checked": True, "biometrics_checked": True},
        headers=await mint(POLICE),
    )
    await sign_in(client, stranger)
    r = await link(client, stranger, family.child)
    assert r.status_code == 404 and r.json()["type"].endswith("/not-your-child")
    assert await children(client, stranger) == []
    assert not await may_act_for(db, _citizen(stranger.account_id), child_id)
    assert await db.fetchval("SELECT count(*) FROM account_guardians WHERE child_account_id = $1", child_id) == 1


async def test_after_the_guardianship_ends_neither_parent_manages_the_child(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, mint: Any
) -> None:
    family = await family_at_level_2(client, redis, db, mint)
    child_id = uuid.UUID((await link(client, family.mum, family.child)).json()["account_id"])
    assert (await link(client, family.dad, family.child)).status_code == 201
    # The guardianship ends today (the child's 14th birthday, or a guardian's end recorded).
    await db.execute("UPDATE account_guardians SET until = current_date WHERE child_account_id = $1", child_id)
    for parent in (family.mum, family.dad):
        assert [c["managed_by_me"] for c in await children(client, parent)] == [False]
        assert not await may_act_for(db, _citizen(parent.account_id), child_id)
        assert await managed_account_ids(db, _citizen(parent.account_id)) == [uuid.UUID(parent.account_id)]
        # Linking again does not renew an ended guardianship.
        r = await link(client, parent, family.child)
        assert r.status_code == 409 and r.json()["type"].endswith("/guardianship-ended")


async def test_the_migration_moves_every_guardian_into_the_table(servers: Any, tmp_path: Path) -> None:
    """Guardians named by the old column, current or ended, become rows with the same end."""
    before = tmp_path / "migrations"
    before.mkdir()
    for f in sorted(migrate.MIGRATIONS_DIR.glob("*.sql")):
        if f.name < "0820":
            shutil.copy(f, before / f.name)
    name = f"wallet_guardians_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(servers.admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await asyncpg.connect(with_database(servers.admin_url, name))
    try:
        await migrate.apply(conn, before)
        ids = {}
        for person, level in (("001195004211", 2), ("001317002468", 1), ("001320002470", 1), ("001300002471", 1)):
            ids[person] = await conn.fetchval(
                "INSERT INTO accounts (person_id, phone, level) VALUES ($1, '+84912000001', $2) RETURNING id",
                person,
                level,
            )
        mum = ids["001195004211"]
        moved = {
            ids["001317002468"]: date(2031, 6, 15),
            ids["001320002470"]: None,  # no end recorded
            ids["001300002471"]: date(2014, 1, 2),  # ended: kept as history
        }
        for child, until in moved.items():
            await conn.execute(
                "UPDATE accounts SET guardian_account_id = $2, guardian_until = $3 WHERE id = $1", child, mum, until
            )
        await migrate.apply(conn)
        rows = await conn.fetch("SELECT child_account_id, guardian_account_id, since, until FROM account_guardians")
        assert {r["child_account_id"]: r["until"] for r in rows} == moved
        assert all(r["guardian_account_id"] == mum and r["since"] is not None for r in rows)
        current = await conn.fetch("SELECT child_account_id FROM guardianship_current")
        assert {r["child_account_id"] for r in current} == {ids["001317002468"], ids["001320002470"]}
    finally:
        await conn.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
