"""Reports for agencies: progress by state, failures, people not reached, reconciliation lines
(of the current import of each provider's day: a re-imported statement replaces the earlier one).

CSV downloads stream from a server-side cursor, so a report of a million rows never sits
in memory. Cells that a spreadsheet would run as a formula are defused with a leading
apostrophe (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
from litestar.response import Stream

__all__ = [
    "FAILURES_SQL",
    "NOT_REACHED_SQL",
    "RECONCILIATION_SQL",
    "REPORT_SQL",
    "csv_download",
    "programme_progress",
]

# An enrolment's rows: its report rows (refusals, accepted without a wallet) and its plainly
# accepted rows, which live only as beneficiaries with their line number (migration 0405;
# enrolments from before it have every row in enrolment_rows and no line_no on beneficiaries).
REPORT_SQL = """
SELECT line_no, person_id, amount, agency_ref, outcome, reason
FROM enrolment_rows WHERE enrolment_id = $1
UNION ALL
SELECT b.line_no, b.person_id::text, b.amount::text, b.agency_ref, 'accepted', NULL
FROM beneficiaries b
WHERE b.enrolment_id = $1 AND b.line_no IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM enrolment_rows r WHERE r.enrolment_id = $1 AND r.line_no = b.line_no)
ORDER BY 1
"""

FAILURES_SQL = """
SELECT p.id, p.person_id, b.agency_ref, p.amount, p.state, coalesce(p.failure_reason, p.hold_reason), p.provider,
       p.updated_at
FROM payments p JOIN beneficiaries b ON b.id = p.beneficiary_id
WHERE p.batch_id = $1 AND p.state IN ('failed', 'unknown', 'manual_review', 'reversed')
ORDER BY p.id
"""

NOT_REACHED_SQL = """
SELECT p.id, p.person_id, b.agency_ref, p.amount, p.hold_reason, p.updated_at
FROM payments p JOIN beneficiaries b ON b.id = p.beneficiary_id
WHERE p.batch_id = $1 AND p.state = 'returned'
ORDER BY p.id
"""

RECONCILIATION_SQL = """
SELECT r.day, r.provider, l.line_no, l.payment_id, l.provider_ref, l.kind, l.statement_amount, l.our_amount, l.outcome
FROM reconciliation_lines l JOIN reconciliations r ON r.id = l.reconciliation_id AND r.superseded_at IS NULL
WHERE {scope} = $1
ORDER BY r.created_at, l.line_no
"""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_download(pool: asyncpg.Pool, sql: str, args: Sequence[Any], header: Sequence[str], filename: str) -> Stream:
    async def rows() -> AsyncIterator[bytes]:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        async with pool.acquire() as conn, conn.transaction(readonly=True):
            async for record in conn.cursor(sql, *args, prefetch=5000):
                writer.writerow([_cell(v) for v in record])
                if buf.tell() > 65536:
                    yield buf.getvalue().encode()
                    buf.seek(0)
                    buf.truncate()
        yield buf.getvalue().encode()

    return Stream(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def enrolment_download(pool: asyncpg.Pool, enrolment_id: Any) -> Stream:
    """An enrolment's per-row report as CSV."""
    header = ["line", "person_id", "amount", "agency_reference", "outcome", "reason"]
    return csv_download(pool, REPORT_SQL, [enrolment_id], header, f"enrolment-{enrolment_id}.csv")


def failures_download(pool: asyncpg.Pool, batch_id: Any) -> Stream:
    header = ["payment_id", "person_id", "agency_reference", "amount", "state", "reason", "provider", "updated_at"]
    return csv_download(pool, FAILURES_SQL, [batch_id], header, f"failures-{batch_id}.csv")


def not_reached_download(pool: asyncpg.Pool, batch_id: Any) -> Stream:
    header = ["payment_id", "person_id", "agency_reference", "amount", "reason", "returned_at"]
    return csv_download(pool, NOT_REACHED_SQL, [batch_id], header, f"not-reached-{batch_id}.csv")


def reconciliation_download(pool: asyncpg.Pool, scope: str, value: Any) -> Stream:
    """Reconciliation lines of a programme (``scope`` = ``l.programme_id``) or a batch (``l.batch_id``)."""
    header = [
        "day",
        "provider",
        "line",
        "payment_id",
        "provider_ref",
        "kind",
        "statement_amount",
        "our_amount",
        "outcome",
    ]
    return csv_download(pool, RECONCILIATION_SQL.format(scope=scope), [value], header, f"reconciliation-{value}.csv")


async def programme_progress(conn: asyncpg.Connection | asyncpg.Pool, programme_id: Any) -> dict[str, Any]:
    states = await conn.fetch(
        """SELECT state, count(*) AS n, coalesce(sum(amount), 0)::bigint AS amount
           FROM payments WHERE programme_id = $1 GROUP BY state ORDER BY state""",
        programme_id,
    )
    recon = await conn.fetch(
        """SELECT l.outcome, count(*) AS n
           FROM reconciliation_lines l JOIN reconciliations r ON r.id = l.reconciliation_id AND r.superseded_at IS NULL
           WHERE l.programme_id = $1 GROUP BY 1 ORDER BY 1""",
        programme_id,
    )
    return {
        "by_state": [{"state": r["state"], "count": int(r["n"]), "amount": int(r["amount"])} for r in states],
        "reconciliation": {r["outcome"]: int(r["n"]) for r in recon},
    }
