"""A beneficiary whose account is below identification level 2 is never paid: the payment
is held (``level_required``) until the account reaches level 2, or returned at window end."""

from __future__ import annotations

import asyncpg
import httpx

from payments.disbursement import holds
from tests.disbursement.conftest import Agency, add_residents, csv_body, enrol, make_programme, released_batch
from tests.disbursement.test_payouts import _drain, _states
from wallet_api.worker_context import WorkerContext


async def _release_to_level_one(client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool) -> tuple[str, str]:
    people = await add_residents(db, 2)
    # Wallets linked while at level 2, then the accounts fell to level 1 (as a squatted account does).
    await db.execute("UPDATE accounts SET level = 1")
    programme = await make_programme(client, agency)
    await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", f"R{i}") for i, p in enumerate(people)]))
    batch_id = await released_batch(client, agency, programme["id"], 2, 1_000_000)
    return str(programme["id"]), batch_id


async def test_a_level_one_beneficiary_is_held_and_paid_once_at_level_two(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext
) -> None:
    await _release_to_level_one(client, agency, db)
    assert [r["hold_reason"] for r in await db.fetch("SELECT hold_reason FROM payments")] == ["level_required"] * 2
    await _drain(worker_ctx)
    assert await _states(db) == {"held": 2}
    # The sweep does not release a level-1 account's payment even though it has a wallet.
    await holds.sweep_holds_once(worker_ctx)
    assert await _states(db) == {"held": 2}
    raised = await db.fetchval(
        "UPDATE accounts SET level = 2 WHERE id = (SELECT min(account_id::text)::uuid FROM payments) RETURNING id"
    )
    async with db.acquire() as conn, conn.transaction():
        assert await holds.release_holds(conn, [raised]) == 1
    await _drain(worker_ctx)
    assert await _states(db) == {"succeeded": 1, "held": 1}


async def test_a_level_one_beneficiary_not_raised_in_time_is_not_reached(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext
) -> None:
    _, batch_id = await _release_to_level_one(client, agency, db)
    await db.execute("UPDATE payments SET hold_until = now() - interval '1 second'")
    await holds.sweep_holds_once(worker_ctx)
    assert await _states(db) == {"returned": 2}
    r = await client.get(f"/v1/batches/{batch_id}/not-reached.csv", headers=agency.maker)
    assert r.text.count(",level_required,") == 2
