"""Batches: one cycle of a programme, created by a maker, approved by a different checker,
released against the budget in one step, or cancelled before release.

Creating a batch creates and commits one payment per active beneficiary, each with its own
id, before anything can be sent; ``UNIQUE(programme_id, cycle, beneficiary_id)`` makes a
second payment of the same benefit impossible.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from payments import events
from payments.disbursement import BULK_TIMEOUT, ledger, machine
from payments.disbursement.schemas import BatchApproval, BatchIn
from wallet_api.kernel import (
    Conflict,
    NotFound,
    Principal,
    Problem,
    ValidationFailed,
    WorkerContext,
    publish_many,
    record,
)

__all__ = [
    "approve_batch",
    "batch_for",
    "cancel_batch",
    "create_batch",
    "progress",
    "release_batch",
    "resolve_released",
    "resolve_unresolved_once",
]

#: Payments resolved per transaction when a batch is released.
RESOLVE_CHUNK = 20_000

_CREATE_PAYMENTS = """
INSERT INTO payments (id, batch_id, programme_id, cycle, beneficiary_id, person_id, amount)
SELECT time_ordered_uuid(), $1, b.programme_id, $3, b.id, b.person_id, b.amount
FROM beneficiaries b
WHERE b.programme_id = $2 AND b.state = 'active'
"""

# Released batches whose payments are not all resolved yet (a release cut short by a crash).
_UNRESOLVED = """
SELECT b.id, p.name AS programme_name, p.hold_days
FROM batches b JOIN programmes p ON p.id = b.programme_id
WHERE b.state = 'released' AND b.resolved_at IS NULL
ORDER BY b.released_at
"""

_MARK_RESOLVED = """
UPDATE batches SET resolved_at = now()
WHERE id = $1 AND resolved_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM payments WHERE batch_id = $1 AND state = 'created')
"""

_PROGRESS = """
SELECT state, count(*) AS n, coalesce(sum(amount), 0)::bigint AS amount
FROM payments WHERE batch_id = $1 GROUP BY state ORDER BY state
"""


async def batch_for(conn: asyncpg.Connection | asyncpg.Pool, batch_id: UUID, who: Principal) -> asyncpg.Record:
    row = await conn.fetchrow(
        """SELECT b.*, p.org_id, p.name AS programme_name, p.hold_days
           FROM batches b JOIN programmes p ON p.id = b.programme_id WHERE b.id = $1""",
        batch_id,
    )
    if row is None or row["org_id"] != who.org_id:
        raise NotFound("No such batch.")
    return row


async def progress(conn: asyncpg.Connection | asyncpg.Pool, batch_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(_PROGRESS, batch_id)
    return [{"state": r["state"], "count": int(r["n"]), "amount": int(r["amount"])} for r in rows]


def _totals_mismatch(count: int, total: int) -> Problem:
    return ValidationFailed(
        "The control totals do not match the payments of this batch.",
        slug="control-totals-mismatch",
        title="Control totals do not match",
        actual_count=count,
        actual_sum=total,
    )


async def create_batch(conn: asyncpg.Connection, who: Principal, programme: asyncpg.Record, body: BatchIn) -> UUID:
    """Create the batch and all its payments, or nothing if the maker's control totals disagree."""
    if (programme["schedule"] == "one_off") != (body.cycle == "once"):
        raise ValidationFailed(
            "A one-off programme has the single cycle 'once'; a monthly one has cycles 'YYYY-MM'.",
            slug="cycle-invalid",
        )
    async with conn.transaction():
        try:
            batch_id: UUID = await conn.fetchval(
                """INSERT INTO batches (programme_id, cycle, control_count, control_sum, maker)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id""",
                programme["id"],
                body.cycle,
                body.control_count,
                body.control_sum,
                who.key,
            )
        except asyncpg.UniqueViolationError:
            raise Problem(
                "This programme already has a batch for that cycle.",
                slug="batch-exists",
                title="Batch exists",
                status=409,
            ) from None
        await conn.execute("SELECT set_config('wallet.actor', $1, true)", who.key)
        await conn.execute(_CREATE_PAYMENTS, batch_id, programme["id"], body.cycle, timeout=BULK_TIMEOUT)
        count, total = await conn.fetchrow(
            "SELECT count(*), coalesce(sum(amount), 0)::bigint FROM payments WHERE batch_id = $1",
            batch_id,
            timeout=BULK_TIMEOUT,
        )
        if count != body.control_count or total != body.control_sum:
            raise _totals_mismatch(int(count), int(total))
        await record(
            conn,
            actor=who.key,
            action="batch.created",
            subject=f"batch:{batch_id}",
            details={"programme_id": str(programme["id"]), "count": int(count), "sum": int(total)},
        )
    return batch_id


async def approve_batch(conn: asyncpg.Connection, who: Principal, batch_id: UUID, body: BatchApproval) -> None:
    async with conn.transaction():
        batch = await batch_for(conn, batch_id, who)
        if batch["state"] != "draft":
            raise Conflict(f"The batch is {batch['state']}; only a draft can be approved.", slug="batch-state")
        if batch["maker"] == who.key:
            raise Problem(
                "The maker of a batch may not approve it; another officer must.",
                slug="four-eyes",
                title="Maker and checker must differ",
                status=403,
            )
        if (body.control_count, body.control_sum) != (batch["control_count"], batch["control_sum"]):
            raise ValidationFailed(
                "The totals you confirmed differ from the batch's control totals.", slug="control-totals-mismatch"
            )
        try:
            await conn.execute(
                """UPDATE batches SET state = 'approved', checker = $2, approved_at = now()
                   WHERE id = $1 AND state = 'draft'""",
                batch_id,
                who.key,
            )
        except asyncpg.CheckViolationError:
            raise Problem("The maker of a batch may not approve it.", slug="four-eyes", status=403) from None
        await record(conn, actor=who.key, action="batch.approved", subject=f"batch:{batch_id}")


async def release_batch(conn: asyncpg.Connection, who: Principal, batch_id: UUID) -> None:
    """Reserve the whole batch against the budget and open its payments for sending."""
    async with conn.transaction():
        batch = await batch_for(conn, batch_id, who)
        # The programme row lock serialises releases of one programme: two cannot spend the same money.
        await conn.execute("SELECT 1 FROM programmes WHERE id = $1 FOR UPDATE", batch["programme_id"])
        state = await conn.fetchval("SELECT state FROM batches WHERE id = $1 FOR UPDATE", batch_id)
        if state != "approved":
            raise Conflict(f"The batch is {state}; only an approved batch can be released.", slug="batch-state")
        if not await ledger.reserve_batch(conn, batch["programme_id"], batch_id, batch["control_sum"]):
            raise Problem(
                "The programme's remaining budget cannot cover this batch.",
                slug="over-budget",
                title="Over budget",
                status=409,
            )
        await conn.execute(
            "UPDATE batches SET state = 'released', released_at = now(), released_by = $2 WHERE id = $1",
            batch_id,
            who.key,
        )
        await record(conn, actor=who.key, action="batch.released", subject=f"batch:{batch_id}")
    await resolve_released(conn, batch_id, batch["programme_name"], batch["hold_days"], who.key)


async def resolve_released(
    conn: asyncpg.Connection, batch_id: UUID, programme_name: str, hold_days: int, actor: str
) -> int:
    """Open a released batch's payments for sending (or hold them), one chunk per transaction.

    The budget is already reserved for the whole batch (``release_batch``, one step); here
    each payment only finds its wallet. Chunks keep each transaction short: workers start
    paying the first chunk while later ones are resolved, and a million payments never sit
    for minutes as uncommitted index entries that every worker's claim would have to walk
    past. If the process dies half-way, the worker's sweep (``resolve_unresolved_once``)
    finishes the batch; chunks are claimed with SKIP LOCKED, so both may work at once.
    """
    resolved = 0
    while True:
        async with conn.transaction():
            await machine.act_as(conn, actor)
            rows = await machine.resolve_released(conn, batch_id, hold_days, RESOLVE_CHUNK)
            await publish_many(
                conn,
                events.PAYMENT_HELD,
                (
                    events.payment_held(
                        r["account_id"], r["id"], r["amount"], programme_name, r["hold_reason"], r["hold_until"]
                    )
                    for r in rows
                    if r["state"] == "held" and r["account_id"] is not None and r["hold_reason"] != "deceased"
                ),
            )
        resolved += len(rows)
        if not rows:
            await conn.execute(_MARK_RESOLVED, batch_id)
            return resolved


async def resolve_unresolved_once(ctx: WorkerContext) -> int:
    """Finish any released batch whose resolution was cut short (the API process died)."""
    async with ctx.pool.acquire() as conn:
        batches = await conn.fetch(_UNRESOLVED)
        done = 0
        for b in batches:
            done += await resolve_released(conn, b["id"], b["programme_name"], b["hold_days"], "disbursement:release")
    return done


async def cancel_batch(conn: asyncpg.Connection, who: Principal, batch_id: UUID) -> None:
    async with conn.transaction():
        batch = await batch_for(conn, batch_id, who)
        state = await conn.fetchval("SELECT state FROM batches WHERE id = $1 FOR UPDATE", batch_id)
        if state not in ("draft", "approved"):
            raise Conflict(f"The batch is {state}; only a batch not yet released can be cancelled.", slug="batch-state")
        await conn.execute(
            "UPDATE batches SET state = 'cancelled', cancelled_at = now(), cancelled_by = $2 WHERE id = $1",
            batch_id,
            who.key,
        )
        await conn.execute("SELECT set_config('wallet.actor', $1, true)", who.key)
        await machine.cancel_created(conn, batch_id)
        await record(
            conn,
            actor=who.key,
            action="batch.cancelled",
            subject=f"batch:{batch_id}",
            details={"programme_id": str(batch["programme_id"])},
        )
