"""The outcomes of sending: paid, not paid, unknown, to be sent again, or left to a person.

Each function runs inside the caller's transaction and moves only payments in a state the
move may start from, so that a result reported twice (a webhook and the bulk response, a
status query after a webhook) changes nothing the second time. Postings and events go with
the move: money in flight settles into 'paid' with ``payment.succeeded``, or returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from payments import events
from payments.disbursement import ledger
from payments.disbursement.machine.moves import GIVE_UP, LOSE_TRACK, REQUEUE
from wallet_api.kernel import publish_many

__all__ = [
    "act_as",
    "give_up",
    "mark_failed",
    "mark_failed_ids",
    "mark_succeeded",
    "mark_succeeded_ids",
    "mark_unknown",
    "requeue",
]


async def act_as(conn: asyncpg.Connection, actor: str, reason: str = "", *, durable: bool = True) -> None:
    """Name who moves payments (and why) in this transaction's recorded transitions.

    ``durable=False`` lets the commit return before its WAL is flushed, for transactions
    that only record an outcome the provider keeps too (a bulk answer, a callback): if a
    crash loses one, the payments are back in 'sending' (or 'unknown') and a status query
    settles them again. Never for a claim: a payment must be durably 'sending' before it
    is sent.
    """
    await conn.execute(
        "SELECT set_config('wallet.actor', $1, true), set_config('wallet.reason', $2, true),"
        " set_config('synchronous_commit', $3, true)",
        actor,
        reason,
        "on" if durable else "off",
    )


# Functions of migration 0404: the same UPDATE, planned without nested loops (rows found
# by primary key, joined to the answers by hash), whatever the statistics say. They move
# only from SUCCEED.sources and FAIL.sources ('sending', 'unknown').
_SUCCEEDED = "SELECT id, account_id, amount, programme_name FROM payments_mark_succeeded($1::uuid[], $2::text[])"

_FAILED = "SELECT id FROM payments_mark_failed($1::uuid[], $2::text[])"


_UNKNOWN = f"""
UPDATE payments SET state = 'unknown', lease_owner = NULL, lease_until = NULL,
       next_check_at = now() + make_interval(secs => $3),
       answered_at = CASE WHEN $4 THEN clock_timestamp() ELSE answered_at END
WHERE id = ANY($1::uuid[]) AND {LOSE_TRACK.guard()} AND lease_owner = $2
"""

_REQUEUE = f"""
UPDATE payments SET state = 'approved', lease_owner = NULL, lease_until = NULL, next_check_at = NULL
WHERE id = ANY($1::uuid[]) AND {REQUEUE.guard()}
  AND ($2::text IS NULL OR lease_owner = $2 OR state = 'unknown')
"""

_GIVE_UP = f"UPDATE payments SET state = 'manual_review' WHERE id = ANY($1::uuid[]) AND {GIVE_UP.guard()}"

#: Payments per settling statement: keeps the join above small whatever the planner picks.
_CHUNK = 1000


async def _fetch_chunked(
    conn: asyncpg.Connection, sql: str, ids: list[UUID], values: list[Any]
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = []
    for start in range(0, len(ids), _CHUNK):
        rows += await conn.fetch(sql, ids[start : start + _CHUNK], values[start : start + _CHUNK])
    return rows


async def mark_succeeded(
    conn: asyncpg.Connection, payment_ids: Sequence[UUID], provider_refs: Sequence[str | None]
) -> int:
    """The provider paid: settle in-flight money into 'paid' and tell the citizen."""
    return len(await mark_succeeded_ids(conn, payment_ids, provider_refs))


async def mark_succeeded_ids(
    conn: asyncpg.Connection, payment_ids: Sequence[UUID], provider_refs: Sequence[str | None]
) -> list[UUID]:
    """:func:`mark_succeeded`, returning the ids of the payments it moved."""
    if not payment_ids:
        return []
    rows = await _fetch_chunked(conn, _SUCCEEDED, list(payment_ids), list(provider_refs))
    await ledger.post_payments(conn, "settle", [r["id"] for r in rows])
    await publish_many(
        conn,
        events.PAYMENT_SUCCEEDED,
        (
            events.payment_succeeded(r["account_id"], r["id"], r["amount"], r["programme_name"])
            for r in rows
            if r["account_id"] is not None
        ),
    )
    return [r["id"] for r in rows]


async def mark_failed(conn: asyncpg.Connection, payment_ids: Sequence[UUID], reasons: Sequence[str]) -> int:
    """The provider definitely did not pay: the money returns."""
    return len(await mark_failed_ids(conn, payment_ids, reasons))


async def mark_failed_ids(conn: asyncpg.Connection, payment_ids: Sequence[UUID], reasons: Sequence[str]) -> list[UUID]:
    """:func:`mark_failed`, returning the ids of the payments it moved."""
    if not payment_ids:
        return []
    rows = await _fetch_chunked(conn, _FAILED, list(payment_ids), [r[:200] for r in reasons])
    ids: list[UUID] = [r["id"] for r in rows]
    await ledger.post_payments(conn, "fail", ids)
    return ids


async def _move(conn: asyncpg.Connection, reason: str, sql: str, payment_ids: Sequence[UUID], *args: Any) -> int:
    """Run one move's statement over ``payment_ids`` with ``reason`` recorded; how many moved."""
    if not payment_ids:
        return 0
    await conn.execute("SELECT set_config('wallet.reason', $1, true)", reason)
    status: str = await conn.execute(sql, list(payment_ids), *args)
    return int(status.split()[-1])


async def mark_unknown(
    conn: asyncpg.Connection,
    payment_ids: Sequence[UUID],
    owner: str,
    reason: str,
    check_in: float,
    *,
    answered: bool = False,
) -> int:
    """We cannot know whether the provider acted: only a status query decides.

    ``answered``: the provider did answer the send (a 5xx of its own), so the request is
    no longer in progress there and a "not found" needs no grace period.
    """
    return await _move(conn, reason, _UNKNOWN, payment_ids, owner, check_in, answered)


async def requeue(conn: asyncpg.Connection, payment_ids: Sequence[UUID], owner: str | None, reason: str) -> int:
    """Back to 'approved' (resent later with the same id): only when the provider did nothing."""
    return await _move(conn, reason, _REQUEUE, payment_ids, owner)


async def give_up(conn: asyncpg.Connection, payment_ids: Sequence[UUID], reason: str) -> int:
    """Status queries never settled them: a person decides (manual review)."""
    return await _move(conn, reason, _GIVE_UP, payment_ids)
