"""Reconciliation: the provider's statement of a day against our payments, line by line.

Every statement line is classified once:

- ``matched``: our payment, same amount; the payment becomes 'reconciled' (one we still
  thought unknown becomes 'succeeded' first: the statement is the provider's answer);
- ``amount_mismatch``: our payment, another amount → manual review;
- ``unknown_to_us``: a payout we never made (or another provider's) → alarm;
- ``duplicate``: a second payout of one payment (same statement or an earlier day) → alarm;
- ``paid_but_failed_here``: we recorded a definite failure, the provider paid → manual review;
- ``reversal``: the provider took a payout back → 'reversed', paid → returned in the ledger;

and, once the day is over (a *complete* statement), every payment we settled that day with
this provider but the statement lacks becomes a ``missing_at_provider`` line (manual
review). A statement of a day not yet over is *partial*: the provider may still be
settling payments we already count as paid, so nothing is missing from it yet.

Statements are re-importable and converge: the latest import of a provider's day
supersedes the earlier ones (kept for the record; only the current one counts), and moves
payments as it says, so a payment an earlier statement sent to review that the latest
matches is reconciled. Statements stream into a staging table (``COPY``), and
classification is one SQL statement, whatever the size.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from payments.disbursement import BULK_TIMEOUT, ledger, machine
from payments.disbursement.csvcopy import quote_end_markers
from payments.providers.base import StatementLine
from wallet_api.kernel import ValidationFailed

__all__ = ["STATEMENT_HEADER", "reconcile_csv", "reconcile_lines"]

STATEMENT_HEADER = "payment_id,provider_ref,wallet_account,amount,kind,at"

_STAGE = """
CREATE TEMP TABLE recon_stage (
    line_no bigint GENERATED ALWAYS AS IDENTITY,
    payment_id text, provider_ref text, wallet_account text, amount bigint, kind text, at timestamptz
) ON COMMIT DROP
"""

_UUID = "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'"

_CLASSIFY = f"""
INSERT INTO reconciliation_lines (reconciliation_id, line_no, payment_id, programme_id, batch_id, provider_ref, kind,
                                  statement_amount, our_amount, outcome)
SELECT $1, s.line_no, s.payment_id, p.programme_id, p.batch_id, s.provider_ref, s.kind, s.amount, p.amount,
    CASE
        WHEN p.id IS NULL OR p.provider IS DISTINCT FROM $2 THEN 'unknown_to_us'
        WHEN s.kind = 'reversal' THEN 'reversal'
        WHEN s.nth > 1 OR EXISTS (
            SELECT 1 FROM reconciliation_lines rl JOIN reconciliations r ON r.id = rl.reconciliation_id
            WHERE rl.payment_id = s.payment_id AND rl.kind = 'payout' AND rl.outcome = 'matched'
              AND r.provider = $2 AND r.day <> $3 AND r.superseded_at IS NULL
        ) THEN 'duplicate'
        WHEN s.amount IS DISTINCT FROM p.amount THEN 'amount_mismatch'
        WHEN p.state IN ('failed', 'held', 'returned', 'created', 'cancelled') THEN 'paid_but_failed_here'
        -- Under review with its money returned here (a failure recorded, a hold ended).
        WHEN p.state = 'manual_review' AND EXISTS (
            SELECT 1 FROM ledger_transactions lt WHERE lt.payment_id = p.id AND lt.kind IN ('fail', 'expire', 'reverse')
        ) THEN 'paid_but_failed_here'
        ELSE 'matched'
    END
FROM (
    SELECT st.*, row_number() OVER (PARTITION BY st.payment_id, st.kind ORDER BY st.line_no) AS nth
    FROM recon_stage st
) s
-- CASE, not AND: PostgreSQL may evaluate either side of an AND first, and the cast of a
-- payment id that is not a UUID (a line '\\.' made a row, a typo) must never run.
LEFT JOIN payments p ON p.id = CASE WHEN lower(s.payment_id) ~ {_UUID} THEN s.payment_id::uuid END
"""

_MISSING = """
INSERT INTO reconciliation_lines (reconciliation_id, line_no, payment_id, programme_id, batch_id, provider_ref, kind,
                                  statement_amount, our_amount, outcome)
SELECT $1, $4 + row_number() OVER (ORDER BY p.id), p.id::text, p.programme_id, p.batch_id, p.provider_ref, 'payout',
       NULL, p.amount, 'missing_at_provider'
FROM payments p
WHERE p.provider = $2 AND p.state IN ('succeeded', 'reconciled')
  AND p.settled_at >= $3::date AND p.settled_at < $3::date + 1
  AND NOT EXISTS (SELECT 1 FROM recon_stage s WHERE s.payment_id = p.id::text AND s.kind = 'payout')
  -- Paid just before midnight by the provider, recorded just after by us: another day's line.
  AND NOT EXISTS (
      SELECT 1 FROM reconciliation_lines rl JOIN reconciliations r ON r.id = rl.reconciliation_id
      WHERE rl.payment_id = p.id::text AND rl.kind = 'payout' AND rl.outcome = 'matched'
        AND r.provider = $2 AND r.day <> $3 AND r.superseded_at IS NULL
  )
"""

# Only one import of a provider's day is current; taking its turn serialises two imports
# of the same day (the later one then supersedes the earlier).
_SUPERSEDE = """
UPDATE reconciliations SET superseded_at = now()
WHERE provider = $1 AND day = $2 AND superseded_at IS NULL
RETURNING id
"""

_START = """
INSERT INTO reconciliations (provider, day, created_by, complete)
VALUES ($1, $2, $3, $2 < (now() AT TIME ZONE 'UTC')::date)
RETURNING id, complete
"""


def _ids(rows: list[asyncpg.Record]) -> list[UUID]:
    return [UUID(r["payment_id"]) for r in rows]


async def _apply(conn: asyncpg.Connection, recon_id: UUID) -> None:
    """Move payments as the statement says; each move starts only from the states it may."""

    async def lines(outcome: str, kind: str = "payout") -> list[asyncpg.Record]:
        return list(
            await conn.fetch(
                """SELECT DISTINCT payment_id, provider_ref FROM reconciliation_lines
                   WHERE reconciliation_id = $1 AND outcome = $2 AND kind = $3""",
                recon_id,
                outcome,
                kind,
                timeout=BULK_TIMEOUT,
            )
        )

    await machine.act_as(conn, "reconciliation", f"statement:{recon_id}")
    matched = await lines("matched")
    refs = [r["provider_ref"] for r in matched]
    await machine.mark_succeeded(conn, _ids(matched), refs)
    await machine.reconcile(conn, _ids(matched))
    # Sent to review by an earlier statement (or by unanswered status queries), matched by
    # this one: the provider paid it. Money still in flight (status never resolved) is
    # settled now; money an earlier statement saw settled stays in 'paid' (a replayed
    # posting inserts nothing).
    out_of_review = await machine.reconcile_reviewed(conn, _ids(matched), refs)
    await ledger.post_payments(conn, "settle", out_of_review)
    review: list[UUID] = []
    for outcome in ("amount_mismatch", "paid_but_failed_here", "missing_at_provider"):
        review += _ids(await lines(outcome))
    await machine.review(conn, review)
    reversed_ids = await machine.reverse(conn, _ids(await lines("reversal", "reversal")))
    await ledger.post_payments(conn, "reverse", reversed_ids)


@dataclass(frozen=True)
class _Import:
    """An import of a statement: its id, whether the day was over, which imports it supersedes."""

    id: UUID
    complete: bool
    supersedes: list[UUID]


async def _finish(conn: asyncpg.Connection, imp: _Import, provider: str, day: date) -> dict[str, Any]:
    recon_id = imp.id
    # Autovacuum never analyses a temporary table: without statistics the planner took the
    # staged statement for a few rows and looked for missing payments with a nested loop
    # over it, quadratic in the statement's size.
    await conn.execute("ANALYZE recon_stage")
    count = await conn.fetchval("SELECT count(*) FROM recon_stage")
    await conn.execute(_CLASSIFY, recon_id, provider, day, timeout=BULK_TIMEOUT)
    if imp.complete:
        await conn.execute(_MISSING, recon_id, provider, day, count, timeout=BULK_TIMEOUT)
    await _apply(conn, recon_id)
    rows = await conn.fetch(
        "SELECT outcome, count(*) AS n FROM reconciliation_lines WHERE reconciliation_id = $1 GROUP BY 1", recon_id
    )
    counts = {r["outcome"]: int(r["n"]) for r in rows}
    row = await conn.fetchrow(
        "UPDATE reconciliations SET lines = $2, counts = $3 WHERE id = $1 RETURNING *", recon_id, int(count), counts
    )
    assert row is not None
    return {
        "id": str(row["id"]),
        "provider": row["provider"],
        "day": row["day"].isoformat(),
        "lines": row["lines"],
        "complete": row["complete"],
        "supersedes": [str(i) for i in imp.supersedes],
        "counts": counts,
        "created_at": row["created_at"],
    }


async def _start(conn: asyncpg.Connection, provider: str, day: date, actor: str) -> _Import:
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"reconciliation:{provider}:{day}")
    superseded = [r["id"] for r in await conn.fetch(_SUPERSEDE, provider, day)]
    row = await conn.fetchrow(_START, provider, day, actor)
    assert row is not None
    await conn.execute(
        "UPDATE reconciliations SET superseded_by = $1 WHERE id = ANY($2::uuid[])", row["id"], superseded
    )
    await conn.execute(_STAGE)
    return _Import(row["id"], row["complete"], superseded)


async def reconcile_lines(
    conn: asyncpg.Connection, provider: str, day: date, lines: AsyncIterable[StatementLine], actor: str
) -> dict[str, Any]:
    """Reconcile a statement read from the provider's adapter."""

    async def records() -> AsyncIterator[tuple[Any, ...]]:
        async for line in lines:
            yield (line.payment_id, line.provider_ref, line.wallet_account, line.amount, line.kind, line.at)

    async with conn.transaction():
        imp = await _start(conn, provider, day, actor)
        await conn.copy_records_to_table(
            "recon_stage",
            records=records(),
            columns=["payment_id", "provider_ref", "wallet_account", "amount", "kind", "at"],
            timeout=BULK_TIMEOUT,
        )
        return await _finish(conn, imp, provider, day)


async def reconcile_csv(
    conn: asyncpg.Connection, provider: str, day: date, body: AsyncIterable[bytes], actor: str
) -> dict[str, Any]:
    """Reconcile a statement uploaded as CSV (``STATEMENT_HEADER``), streamed into COPY."""
    async with conn.transaction():
        imp = await _start(conn, provider, day, actor)
        try:
            await conn.copy_to_table(
                "recon_stage",
                source=quote_end_markers(body, 6),
                columns=["payment_id", "provider_ref", "wallet_account", "amount", "kind", "at"],
                format="csv",
                header=True,
                timeout=BULK_TIMEOUT,
            )
        except (asyncpg.DataError, asyncpg.BadCopyFileFormatError) as exc:
            raise ValidationFailed(
                f"The statement is not valid CSV ({STATEMENT_HEADER}): {exc.args[0] if exc.args else ''}",
                slug="statement-invalid",
            ) from None
        bad = await conn.fetchval("SELECT count(*) FROM recon_stage WHERE kind NOT IN ('payout', 'reversal')")
        if bad:
            raise ValidationFailed("Statement line kinds must be payout or reversal.", slug="statement-invalid")
        return await _finish(conn, imp, provider, day)
