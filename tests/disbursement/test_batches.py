"""Batches: control totals, maker-checker, release against the budget, cancellation."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from payments.disbursement import batches
from tests.disbursement.conftest import (
    Agency,
    add_residents,
    approved_batch,
    csv_body,
    enrol,
    make_programme,
    released_batch,
)


async def _programme_with(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, n: int, without_wallet: int = 0, **kw: object
) -> str:
    """A programme with ``n`` residents enrolled who have a wallet and ``without_wallet`` who have none."""
    people = await add_residents(db, n) + await add_residents(db, without_wallet, wallet=False)
    programme = await make_programme(client, agency, **kw)
    await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", f"R{i}") for i, p in enumerate(people)]))
    return str(programme["id"])


async def test_a_batch_whose_control_totals_disagree_is_not_created(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    programme_id = await _programme_with(client, agency, db, 3)
    r = await client.post(
        f"/v1/programmes/{programme_id}/batches",
        json={"cycle": "2026-11", "control_count": 3, "control_sum": 1_499_999},
        headers=agency.maker,
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("/control-totals-mismatch")
    assert await db.fetchval("SELECT count(*) FROM payments") == 0
    assert await db.fetchval("SELECT count(*) FROM batches") == 0


async def test_the_maker_cannot_approve_their_own_batch(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, mint: object
) -> None:
    programme_id = await _programme_with(client, agency, db, 2)
    r = await client.post(
        f"/v1/programmes/{programme_id}/batches",
        json={"cycle": "2026-11", "control_count": 2, "control_sum": 1_000_000},
        headers=agency.maker,
    )
    batch_id = r.json()["id"]
    maker_subject = r.json()["maker"].split(":", 1)[1]
    both_roles = await mint(  # type: ignore[operator]
        kind="officer",
        subject=maker_subject,
        org_id="welfare-hn",
        roles=frozenset({"welfare_maker", "welfare_checker"}),
    )
    r = await client.post(
        f"/v1/batches/{batch_id}/approve", json={"control_count": 2, "control_sum": 1_000_000}, headers=both_roles
    )
    assert r.status_code == 403
    assert r.json()["type"].endswith("/four-eyes")


async def test_the_database_refuses_maker_equal_to_checker(db: asyncpg.Pool) -> None:
    await db.execute("INSERT INTO organisations (id, kind, name) VALUES ('w', 'welfare', 'w')")
    programme_id = await db.fetchval(
        """INSERT INTO programmes (org_id, name, legal_basis, budget, amount_mode, fixed_amount, schedule, created_by)
           VALUES ('w', 'p', 'l', 1, 'fixed', 1, 'one_off', 'x') RETURNING id"""
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            """INSERT INTO batches (programme_id, cycle, control_count, control_sum, maker, checker, state)
               VALUES ($1, 'once', 1, 1, 'officer:a', 'officer:a', 'approved')""",
            programme_id,
        )


async def test_the_checker_must_confirm_the_same_totals(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    programme_id = await _programme_with(client, agency, db, 2)
    r = await client.post(
        f"/v1/programmes/{programme_id}/batches",
        json={"cycle": "2026-11", "control_count": 2, "control_sum": 1_000_000},
        headers=agency.maker,
    )
    r = await client.post(
        f"/v1/batches/{r.json()['id']}/approve",
        json={"control_count": 2, "control_sum": 999_999},
        headers=agency.checker,
    )
    assert r.status_code == 422


async def test_release_reserves_the_total_in_one_step_and_holds_who_cannot_be_paid(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    paid = await add_residents(db, 2)
    unlinked = await add_residents(db, 1, wallet=False)
    cooling = await add_residents(db, 1, cooling_off=True)
    programme = await make_programme(client, agency, budget=5_000_000)
    everyone = paid + unlinked + cooling
    await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", "r") for p in everyone]))
    batch_id = await released_batch(client, agency, programme["id"], 4, 2_000_000)
    states = dict(await db.fetch("SELECT hold_reason, count(*) FROM payments GROUP BY 1"))
    assert states == {None: 2, "no_wallet": 1, "wallet_cooling_off": 1}
    r = await client.get(f"/v1/programmes/{programme['id']}", headers=agency.maker)
    ledger = r.json()["ledger"]
    assert (ledger["budget"], ledger["reserved"]) == (3_000_000, 2_000_000)
    assert await db.fetchval("SELECT count(*) FROM ledger_transactions WHERE kind = 'reserve'") == 1
    held_events = await db.fetchval("SELECT count(*) FROM payment_transitions WHERE to_state = 'held'")
    assert held_events == 2
    r = await client.get(f"/v1/batches/{batch_id}", headers=agency.checker)
    assert {p["state"]: p["count"] for p in r.json()["progress"]} == {"approved": 2, "held": 2}


async def test_a_release_cut_short_is_finished_by_the_worker_chunk_by_chunk(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API process dies right after the one-step reservation: nothing is resolved yet.
    programme_id = await _programme_with(client, agency, db, 4, without_wallet=1, budget=5_000_000)

    async def died(*_: Any) -> int:
        return 0

    monkeypatch.setattr(batches, "resolve_released", died)
    batch_id = await released_batch(client, agency, programme_id, 5, 2_500_000)
    monkeypatch.undo()
    assert await db.fetchval("SELECT count(*) FROM payments WHERE state = 'created'") == 5
    assert await db.fetchval("SELECT resolved_at FROM batches WHERE id = $1", uuid.UUID(batch_id)) is None

    monkeypatch.setattr(batches, "RESOLVE_CHUNK", 2)
    assert await batches.resolve_unresolved_once(worker_ctx) == 5
    states = dict(await db.fetch("SELECT coalesce(hold_reason, state), count(*) FROM payments GROUP BY 1"))
    assert states == {"approved": 4, "no_wallet": 1}
    assert await db.fetchval("SELECT resolved_at FROM batches WHERE id = $1", uuid.UUID(batch_id)) is not None
    # The reservation was made once, at release; the sweep has nothing left to do.
    assert await db.fetchval("SELECT count(*) FROM ledger_transactions WHERE kind = 'reserve'") == 1
    assert await batches.resolve_unresolved_once(worker_ctx) == 0
    moves = await db.fetchval("SELECT count(*) FROM payment_transitions WHERE from_state = 'created'")
    assert moves == 5


async def test_the_release_and_the_worker_sweep_at_once_resolve_each_payment_once(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both claim chunks with SKIP LOCKED: whoever resolves a payment, it moves once and its
    # citizen is told once.
    programme_id = await _programme_with(client, agency, db, 30, without_wallet=5, budget=50_000_000)
    batch_id = uuid.UUID(await approved_batch(client, agency, programme_id, 35, 17_500_000))
    monkeypatch.setattr(batches, "RESOLVE_CHUNK", 3)

    async def sweep() -> None:
        for _ in range(500):
            await batches.resolve_unresolved_once(worker_ctx)
            if await db.fetchval("SELECT resolved_at FROM batches WHERE id = $1", batch_id) is not None:
                return
            await asyncio.sleep(0)

    released, _ = await asyncio.gather(client.post(f"/v1/batches/{batch_id}/release", headers=agency.checker), sweep())
    assert released.status_code == 200
    moves = await db.fetch(
        "SELECT payment_id, count(*) AS n FROM payment_transitions WHERE from_state = 'created' GROUP BY 1"
    )
    assert len(moves) == 35 and all(m["n"] == 1 for m in moves)
    states = dict(await db.fetch("SELECT coalesce(hold_reason, state), count(*) FROM payments GROUP BY 1"))
    assert states == {"approved": 30, "no_wallet": 5}
    told = await db.fetch(
        """SELECT consumer, count(*) AS n, count(DISTINCT payload->>'payment_id') AS payments
           FROM outbox WHERE topic = 'payment.held' GROUP BY consumer"""
    )
    assert told and all((t["n"], t["payments"]) == (5, 5) for t in told)


async def test_a_batch_over_the_remaining_budget_cannot_be_released(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    programme_id = await _programme_with(client, agency, db, 3, budget=1_000_000)
    r = await client.post(
        f"/v1/programmes/{programme_id}/batches",
        json={"cycle": "2026-11", "control_count": 3, "control_sum": 1_500_000},
        headers=agency.maker,
    )
    batch_id = r.json()["id"]
    await client.post(
        f"/v1/batches/{batch_id}/approve", json={"control_count": 3, "control_sum": 1_500_000}, headers=agency.checker
    )
    r = await client.post(f"/v1/batches/{batch_id}/release", headers=agency.checker)
    assert r.status_code == 409
    assert r.json()["type"].endswith("/over-budget")
    assert await db.fetchval("SELECT count(*) FROM payments WHERE state = 'created'") == 3


async def test_a_cancelled_batch_frees_its_cycle_and_a_released_one_cannot_be_cancelled(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    programme_id = await _programme_with(client, agency, db, 2)
    body = {"cycle": "2026-11", "control_count": 2, "control_sum": 1_000_000}
    r = await client.post(f"/v1/programmes/{programme_id}/batches", json=body, headers=agency.maker)
    r = await client.post(f"/v1/batches/{r.json()['id']}/cancel", headers=agency.maker)
    assert r.json()["state"] == "cancelled"
    batch_id = await released_batch(client, agency, programme_id, 2, 1_000_000)
    r = await client.post(f"/v1/batches/{batch_id}/cancel", headers=agency.maker)
    assert r.status_code == 409


async def test_a_second_batch_for_the_same_cycle_is_refused(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    programme_id = await _programme_with(client, agency, db, 1)
    await released_batch(client, agency, programme_id, 1, 500_000)
    r = await client.post(
        f"/v1/programmes/{programme_id}/batches",
        json={"cycle": "2026-11", "control_count": 1, "control_sum": 500_000},
        headers=agency.maker,
    )
    assert r.status_code == 409
    assert r.json()["type"].endswith("/batch-exists")
