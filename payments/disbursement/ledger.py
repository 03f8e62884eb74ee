"""The double-entry ledger of a programme: where every đồng is at every moment.

Each posting moves one payment's amount (or one batch's total) from one account to another
in one ledger transaction whose entries sum to zero (a deferred constraint trigger checks
it at commit). ``UNIQUE(payment_id, kind)`` makes a replayed posting insert nothing, so
callers may post again after a crash or a duplicate callback without double counting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from uuid import UUID

import asyncpg

__all__ = [
    "ACCOUNT_KINDS",
    "PaymentPosting",
    "balances",
    "open_accounts",
    "post_payments",
    "reserve_batch",
    "unbalanced_transactions",
]

ACCOUNT_KINDS = ("appropriation", "budget", "reserved", "in_flight", "paid", "returned")

PaymentPosting = Literal["send", "settle", "fail", "expire", "reverse"]

#: Each per-payment posting: the account the money leaves and the account it enters (an
#: expiry, reserved or in flight → returned, is `_POST_EXPIRE`).
_MOVES: dict[str, tuple[str, str]] = {
    "send": ("reserved", "in_flight"),
    "settle": ("in_flight", "paid"),
    "fail": ("in_flight", "returned"),
    "reverse": ("paid", "returned"),
}

# A payment that went back to 'approved' after it was claimed (a 429, or a provider that
# never saw it) keeps its money in flight: its send posting happens once, at its first
# claim. If it is then held and returned (its beneficiary died), the money must leave the
# in-flight account its send posting credited, not 'reserved', which no longer holds it.
_EXPIRE_SOURCE = """
SELECT coalesce(
    (SELECT e.account_id FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
     WHERE t.payment_id = p.id AND t.kind = 'send' AND e.amount > 0),
    a.id)
FROM ledger_accounts a
WHERE a.programme_id = p.programme_id AND a.kind = 'reserved' AND a.provider = ''
"""

_OPEN_ACCOUNTS = """
INSERT INTO ledger_accounts (programme_id, kind)
SELECT $1, k FROM unnest($2::text[]) AS k
ON CONFLICT DO NOTHING
"""

_APPROPRIATE = """
WITH t AS (
    INSERT INTO ledger_transactions (programme_id, kind) VALUES ($1, 'appropriate')
    ON CONFLICT DO NOTHING RETURNING id
)
INSERT INTO ledger_entries (transaction_id, account_id, amount)
SELECT t.id, a.id, CASE a.kind WHEN 'appropriation' THEN -$2::bigint ELSE $2::bigint END
FROM t JOIN ledger_accounts a ON a.programme_id = $1 AND a.kind IN ('appropriation', 'budget')
"""

_OPEN_IN_FLIGHT = """
INSERT INTO ledger_accounts (programme_id, kind, provider)
SELECT DISTINCT programme_id, 'in_flight', provider FROM payments
WHERE id = ANY($1::uuid[]) AND provider IS NOT NULL
ON CONFLICT DO NOTHING
"""

_POST = """
WITH p AS (
    SELECT id, programme_id, amount, coalesce(provider, '') AS provider FROM payments WHERE id = ANY($1::uuid[])
), t AS (
    INSERT INTO ledger_transactions (programme_id, kind, payment_id)
    SELECT programme_id, $2, id FROM p
    ON CONFLICT DO NOTHING
    RETURNING id, payment_id
), e AS (
    INSERT INTO ledger_entries (transaction_id, account_id, amount)
    SELECT t.id, a.id, CASE WHEN s.side = 'from' THEN -p.amount ELSE p.amount END
    FROM t
    JOIN p ON p.id = t.payment_id
    CROSS JOIN (VALUES ('from', $3::text), ('to', $4::text)) AS s(side, account_kind)
    JOIN ledger_accounts a
      ON a.programme_id = p.programme_id AND a.kind = s.account_kind
     AND a.provider = CASE WHEN s.account_kind = 'in_flight' THEN p.provider ELSE '' END
    RETURNING 1
)
SELECT count(*) FROM t
"""

_POST_EXPIRE = f"""
WITH p AS (
    SELECT p.id, p.programme_id, p.amount, ({_EXPIRE_SOURCE}) AS source
    FROM payments p WHERE p.id = ANY($1::uuid[])
), t AS (
    INSERT INTO ledger_transactions (programme_id, kind, payment_id)
    SELECT programme_id, 'expire', id FROM p
    ON CONFLICT DO NOTHING
    RETURNING id, payment_id
), e AS (
    INSERT INTO ledger_entries (transaction_id, account_id, amount)
    SELECT t.id, s.account_id, s.amount
    FROM t
    JOIN p ON p.id = t.payment_id
    JOIN ledger_accounts r ON r.programme_id = p.programme_id AND r.kind = 'returned' AND r.provider = ''
    CROSS JOIN LATERAL (VALUES (p.source, -p.amount), (r.id, p.amount)) AS s(account_id, amount)
    RETURNING 1
)
SELECT count(*) FROM t
"""

_BALANCES = """
SELECT a.kind, a.provider, coalesce(sum(e.amount), 0)::bigint AS balance
FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
WHERE a.programme_id = $1
GROUP BY a.id, a.kind, a.provider
"""

_AVAILABLE = """
SELECT a.kind, coalesce(sum(e.amount), 0)::bigint AS balance
FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
WHERE a.programme_id = $1 AND a.kind IN ('budget', 'returned')
GROUP BY a.kind
"""

_RESERVE = """
WITH t AS (
    INSERT INTO ledger_transactions (programme_id, kind, batch_id) VALUES ($1, 'reserve', $2)
    ON CONFLICT DO NOTHING RETURNING id
)
INSERT INTO ledger_entries (transaction_id, account_id, amount)
SELECT t.id, a.id, m.amount
FROM t
CROSS JOIN (VALUES ('budget', -$3::bigint), ('returned', -$4::bigint), ('reserved', $3::bigint + $4::bigint))
    AS m(kind, amount)
JOIN ledger_accounts a ON a.programme_id = $1 AND a.kind = m.kind AND a.provider = ''
WHERE m.amount <> 0
RETURNING 1
"""


async def open_accounts(conn: asyncpg.Connection, programme_id: UUID, budget: int) -> None:
    """Create a new programme's accounts and move its budget in from the appropriation."""
    kinds = [k for k in ACCOUNT_KINDS if k != "in_flight"]
    await conn.execute(_OPEN_ACCOUNTS, programme_id, kinds)
    await conn.execute(_APPROPRIATE, programme_id, budget)


async def reserve_batch(conn: asyncpg.Connection, programme_id: UUID, batch_id: UUID, total: int) -> bool:
    """Reserve ``total`` for a batch in one ledger transaction; False when the budget cannot cover it.

    Money that came back (``returned``) is spent first, then the budget. The caller holds
    the programme row locked so that two releases cannot both see the same free money.
    """
    rows = await conn.fetch(_AVAILABLE, programme_id)
    free = {r["kind"]: int(r["balance"]) for r in rows}
    from_returned = min(max(free.get("returned", 0), 0), total)
    from_budget = total - from_returned
    if from_budget > free.get("budget", 0):
        return False
    await conn.execute(_RESERVE, programme_id, batch_id, from_budget, from_returned)
    return True


async def post_payments(conn: asyncpg.Connection, kind: PaymentPosting, payment_ids: Sequence[UUID]) -> int:
    """Post ``kind`` for each payment (at most once each); returns how many were new."""
    if not payment_ids:
        return 0
    ids = list(payment_ids)
    if kind == "expire":
        return int(await conn.fetchval(_POST_EXPIRE, ids))
    source, target = _MOVES[kind]
    if target == "in_flight":
        # The first posting into a provider's in-flight account opens it; every later one
        # (settle, fail) follows a send of the same payment, so the account exists.
        await conn.execute(_OPEN_IN_FLIGHT, ids)
    return int(await conn.fetchval(_POST, ids, kind, source, target))


async def balances(conn: asyncpg.Connection | asyncpg.Pool, programme_id: UUID) -> dict[str, int]:
    """Balance of every account of a programme (``in_flight:<provider>`` per provider)."""
    rows = await conn.fetch(_BALANCES, programme_id)
    out: dict[str, int] = {}
    for r in rows:
        name = f"{r['kind']}:{r['provider']}" if r["provider"] else r["kind"]
        out[name] = int(r["balance"])
    return out


async def unbalanced_transactions(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """How many ledger transactions do not sum to zero (always 0: the database refuses them)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY 1 HAVING sum(amount) <> 0) x"
        )
    )
