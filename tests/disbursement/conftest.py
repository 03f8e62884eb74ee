"""Fixtures for disbursement: a welfare agency with two officers, residents in the local
registry with accounts and linked wallets, a local provider, and a worker context."""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from payments.providers import PROVIDERS
from tests.disbursement.local_provider import LocalProvider, LocalRegistry
from tests.support.workers import worker_context
from wallet_api.settings import Settings

ORG = "welfare-hn"

_serial = itertools.count(1)


def person_id(province: str, born: date, female: bool = False) -> str:
    century = (born.year - 1900) // 100
    return f"{province}{century * 2 + int(female)}{born.year % 100:02d}{next(_serial) % 1_000_000:06d}"


@dataclass
class Resident:
    person_id: str
    account_id: uuid.UUID | None
    wallet_account: str | None


@dataclass
class Agency:
    maker: dict[str, str]
    checker: dict[str, str]
    checker2: dict[str, str]
    operator: dict[str, str]


@pytest.fixture
async def agency(db: asyncpg.Pool, mint: Any) -> Agency:
    await db.execute(
        "INSERT INTO organisations (id, kind, name, provinces) VALUES ($1, 'welfare', 'Sở LĐTBXH Hà Nội', '{001}')",
        ORG,
    )
    await db.execute("INSERT INTO organisations (id, kind, name) VALUES ('platform', 'admin', 'Platform operator')")

    async def officer(role: str, org: str = ORG) -> dict[str, str]:
        return dict(await mint(kind="officer", subject=str(uuid.uuid4()), org_id=org, roles=frozenset({role})))

    return Agency(
        maker=await officer("welfare_maker"),
        checker=await officer("welfare_checker"),
        checker2=await officer("welfare_checker"),
        operator=await officer("admin", "platform"),
    )


async def add_residents(
    db: asyncpg.Pool,
    n: int,
    *,
    province: str = "001",
    born: date = date(1940, 3, 1),
    wallet: bool = True,
    provider: str = "localpay",
    account: bool = True,
    deceased: bool = False,
    cooling_off: bool = False,
) -> list[Resident]:
    people = [person_id(province, born, female=bool(i % 2)) for i in range(n)]
    await db.executemany(
        """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin, residence_address,
                                   residence_province, status)
           VALUES ($1, 'Nguyễn Văn A', $2, $3, 'Hà Nội', 'Hà Nội', $4, $5)""",
        [
            (p, born, "female" if i % 2 else "male", province, "deceased" if deceased else "alive")
            for i, p in enumerate(people)
        ],
    )
    out = []
    for p in people:
        account_id = None
        wallet_account = None
        if account:
            account_id = await db.fetchval(
                "INSERT INTO accounts (person_id, phone, level) VALUES ($1, '0900000000', 2) RETURNING id", p
            )
            if wallet:
                wallet_account = f"w{p}"
                await db.execute(
                    """INSERT INTO wallet_links (account_id, provider, wallet_account, state, is_default,
                                                 activated_at, payout_hold_until)
                       VALUES ($1, $2, $3, 'active', true, now(),
                               CASE WHEN $4 THEN now() + interval '3 days' END)""",
                    account_id,
                    provider,
                    wallet_account,
                    cooling_off,
                )
        out.append(Resident(p, account_id, wallet_account))
    return out


def csv_body(rows: list[tuple[str, str, str]]) -> bytes:
    lines = ["person_id,amount,agency_reference"] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def provider() -> LocalProvider:
    return LocalProvider()


@pytest.fixture
async def worker_ctx(settings: Settings, db: asyncpg.Pool, redis: aioredis.Redis, provider: LocalProvider) -> Any:
    async with httpx.AsyncClient() as http:
        ctx = worker_context(
            settings,
            db,
            redis,
            http,
            worker_id=f"test-{uuid.uuid4().hex[:6]}",
            services={PROVIDERS: LocalRegistry(provider)},
        )
        yield ctx
        await ctx.services.aclose()


async def make_programme(client: httpx.AsyncClient, agency: Agency, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": f"Trợ cấp xã hội {uuid.uuid4().hex[:6]}",
        "legal_basis": "Nghị định 20/2021/NĐ-CP",
        "budget": 10_000_000_000,
        "schedule": "monthly",
        "fixed_amount": 500_000,
        "provinces": ["001"],
        **overrides,
    }
    r = await client.post("/v1/programmes/", json=body, headers=agency.maker)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def enrol(client: httpx.AsyncClient, agency: Agency, programme_id: str, body: bytes) -> dict[str, Any]:
    r = await client.post(
        f"/v1/programmes/{programme_id}/enrolments",
        content=body,
        headers={**agency.maker, "Content-Type": "text/csv"},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def approved_batch(
    client: httpx.AsyncClient, agency: Agency, programme_id: str, count: int, total: int, cycle: str = "2026-11"
) -> str:
    """A batch created by the maker and approved by the checker, not yet released."""
    r = await client.post(
        f"/v1/programmes/{programme_id}/batches",
        json={"cycle": cycle, "control_count": count, "control_sum": total},
        headers=agency.maker,
    )
    assert r.status_code == 201, r.text
    batch_id = str(r.json()["id"])
    r = await client.post(
        f"/v1/batches/{batch_id}/approve",
        json={"control_count": count, "control_sum": total},
        headers=agency.checker,
    )
    assert r.status_code == 200, r.text
    return batch_id


async def released_batch(
    client: httpx.AsyncClient, agency: Agency, programme_id: str, count: int, total: int, cycle: str = "2026-11"
) -> str:
    batch_id = await approved_batch(client, agency, programme_id, count, total, cycle)
    r = await client.post(f"/v1/batches/{batch_id}/release", headers=agency.checker)
    assert r.status_code == 200, r.text
    return batch_id


def shuffled(items: list[Any], seed: int = 6) -> list[Any]:
    out = list(items)
    random.Random(seed).shuffle(out)
    return out
