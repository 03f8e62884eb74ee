"""The ledger checked against the payments: where every payment's money is, account by account."""

from __future__ import annotations

import uuid
from collections import defaultdict

import asyncpg

from payments.disbursement import ledger

#: Where the money of a payment in a final state must be.
_SETTLED_IN = {"succeeded": "paid", "reconciled": "paid", "failed": "returned", "returned": "returned",
               "reversed": "returned"}  # fmt: skip

_NET_BY_PAYMENT = """
SELECT p.id, a.kind, sum(e.amount)::bigint AS net
FROM payments p
JOIN ledger_transactions t ON t.payment_id = p.id
JOIN ledger_entries e ON e.transaction_id = t.id
JOIN ledger_accounts a ON a.id = e.account_id
WHERE p.programme_id = $1
GROUP BY p.id, a.kind
"""


async def assert_every_account_settles(db: asyncpg.Pool, programme_id: uuid.UUID) -> dict[str, int]:
    """Every payment of the programme is settled, and every ledger account holds exactly the
    money its settled payments put there: reserved and in flight end at zero, nothing is
    negative, paid and returned are the sums of the paid and the returned payments.

    Per payment: its share of the batch reservation plus its own postings leaves its amount
    in exactly one account, the one its state names (a payment under manual review may be
    anywhere a person must look, but still in exactly one place).
    """
    assert await ledger.unbalanced_transactions(db) == 0
    payments = {
        r["id"]: (r["state"], int(r["amount"]))
        for r in await db.fetch(
            "SELECT id, state, amount FROM payments WHERE programme_id = $1 AND state <> 'cancelled'", programme_id
        )
    }
    unsettled = {s for s, _ in payments.values()} - {*_SETTLED_IN, "manual_review"}
    assert not unsettled, f"payments not settled: {unsettled}"
    where: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pid, (_, amount) in payments.items():
        where[pid]["reserved"] += amount  # its share of the batch's reservation
    for r in await db.fetch(_NET_BY_PAYMENT, programme_id):
        where[r["id"]][r["kind"]] += int(r["net"])
    expected: dict[str, int] = defaultdict(int)
    for pid, (state, amount) in payments.items():
        holding = {k: v for k, v in where[pid].items() if v}
        assert len(holding) == 1 and next(iter(holding.values())) == amount, (pid, state, dict(holding))
        account = next(iter(holding))
        if state in _SETTLED_IN:
            assert account == _SETTLED_IN[state], (pid, state, account)
        expected[account] += amount
    b = await ledger.balances(db, programme_id)
    assert sum(b.values()) == 0
    assert b["reserved"] == 0, b
    in_flight = sum(v for k, v in b.items() if k.startswith("in_flight"))
    assert in_flight == expected["in_flight"], b
    assert b["paid"] == expected["paid"], b
    assert min(v for k, v in b.items() if k != "appropriation") >= 0, b
    return b


async def assert_money_in_one_place(db: asyncpg.Pool, programme_id: uuid.UUID, released: int) -> dict[str, int]:
    """At any moment: the ledger balances, and every đồng of the released batches is in
    exactly one place (reserved, in flight, paid, returned), none below zero."""
    assert await ledger.unbalanced_transactions(db) == 0
    b = await ledger.balances(db, programme_id)
    assert sum(b.values()) == 0
    in_flight = sum(v for k, v in b.items() if k.startswith("in_flight"))
    assert b["reserved"] + in_flight + b["paid"] + b["returned"] == released
    assert min(b["reserved"], in_flight, b["paid"], b["returned"]) >= 0
    return b
