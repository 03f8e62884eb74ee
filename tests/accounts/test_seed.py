"""The synthetic population and the demo data are realistic and idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import httpx

from wallet_api.accounts.id_numbers import check_consistent, provinces
from wallet_api.accounts.seed import load_demo, load_population
from wallet_api.settings import Settings


async def test_population_is_consistent_and_loading_twice_adds_nobody(db: asyncpg.Pool) -> None:
    today = datetime.now(UTC).date()
    assert await load_population(db, 3000, 6, today, chunk=1000) == 3000
    assert await load_population(db, 3000, 6, today, chunk=1000) == 0
    rows = await db.fetch("SELECT * FROM population")
    assert len(rows) == 3000
    for r in rows:
        check_consistent(r["person_id"], r["date_of_birth"], r["sex"])
        assert r["residence_province"] in provinces()
    ids = {r["person_id"] for r in rows}
    children = [r for r in rows if r["mother_id"]]
    assert any((today - r["date_of_birth"]).days < 14 * 365 for r in children)
    assert all(r["mother_id"] in ids and (r["father_id"] is None or r["father_id"] in ids) for r in children)
    assert any(r["father_id"] for r in children) and any(r["father_id"] is None for r in children)
    assert any((today - r["date_of_birth"]).days > 75 * 365 for r in rows)
    assert any(r["status"] == "deceased" for r in rows)
    pilots = {p.code for p in provinces().values() if p.welfare_pilot}
    assert pilots <= {r["residence_province"] for r in rows}
    assert any(any(ch in r["full_name"] for ch in "ễịồờăđĐ") for r in rows)
    # Everyone's phone is registered to them at the (local) carriers, once.
    owners = dict(await db.fetch("SELECT person_id, phone FROM mobile_subscribers"))
    assert set(owners) == ids and len(set(owners.values())) == 3000
    assert all(phone.startswith("+8497") for phone in owners.values())


async def test_demo_data_creates_organisations_officers_and_clients(
    db: asyncpg.Pool, settings: Settings, client: httpx.AsyncClient
) -> None:
    creds = await load_demo(db, settings)
    again = await load_demo(db, settings)
    assert not again  # nothing new the second time
    kinds = {r["kind"] for r in await db.fetch("SELECT kind FROM organisations")}
    assert kinds == {"issuer", "welfare", "verifier", "provider", "police", "admin"}
    assert await db.fetchval("SELECT count(*) FROM organisations WHERE kind = 'provider'") == 4
    officer = creds["officers"]["police.hanoi"]
    r = await client.post("/v1/officers/sign-in", json={"username": "police.hanoi", "password": officer["password"]})
    assert r.status_code == 200
    secret = creds["clients"]["verifier-bach-mai-client"]["client_secret"]
    r = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "verifier-bach-mai-client", "client_secret": secret},
    )
    assert r.status_code == 200 and r.json()["scope"] == "documents:verify"
    assert await db.fetchval("SELECT count(*) FROM accounts WHERE level = 2") >= 2
    # Every demo citizen with an account has their phone registered to them (SIM owner).
    assert not await db.fetch(
        """SELECT a.person_id FROM accounts a LEFT JOIN mobile_subscribers s
           ON s.phone = a.phone AND s.person_id = a.person_id WHERE s.phone IS NULL"""
    )
