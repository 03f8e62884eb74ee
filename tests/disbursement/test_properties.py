"""Invariants, checked over many generated cases (hypothesis).

- The ledger always balances, and every đồng of a released batch is in exactly one place
  (reserved, in flight, paid, returned) whatever faults the provider throws at us.
- The state machine never sends a payment twice: no sequence of moves reaches 'sending'
  after an outcome, or 'succeeded' twice.
- Control totals hold: a batch is created only with the totals of its payments.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.disbursement import holds, ledger
from payments.disbursement.dispatch import dispatch_once, recover_once
from payments.providers import PROVIDERS
from tests.disbursement.conftest import Agency, add_residents, csv_body, enrol, make_programme, released_batch
from tests.disbursement.generated import PROVIDER_FAULTS, db_examples, faulty_provider
from tests.disbursement.ledger_checks import assert_money_in_one_place as _conservation
from tests.disbursement.local_provider import LocalRegistry
from tests.support.settings import replaced
from wallet_api.worker_context import WorkerContext

_SETTINGS = db_examples(25)

faults = st.fixed_dictionaries({**PROVIDER_FAULTS, "expire_holds": st.booleans(), "crash_after_claim": st.booleans()})


@pytest.mark.slow
@_SETTINGS
@given(amounts=st.lists(st.integers(min_value=1, max_value=5_000_000), min_size=1, max_size=25), case=faults)
async def test_every_dong_is_in_exactly_one_place_whatever_the_provider_does(
    client: httpx.AsyncClient,
    agency: Agency,
    db: asyncpg.Pool,
    worker_ctx: WorkerContext,
    amounts: list[int],
    case: dict[str, Any],
) -> None:
    provider = faulty_provider(case, seed=len(amounts))
    ctx = worker_ctx.replaced(
        services={PROVIDERS: LocalRegistry(provider)},
        settings=replaced(worker_ctx.settings, payout_not_found_grace_seconds=0, payout_claim_size=10),
    )
    no_wallet = min(case["no_wallet"], len(amounts) - 1)
    linked = await add_residents(db, len(amounts) - no_wallet)
    unlinked = await add_residents(db, no_wallet, wallet=False)
    people = linked + unlinked
    for r in linked[: case["closed"]]:
        provider.closed_wallets.add(str(r.wallet_account))
    programme = await make_programme(client, agency, fixed_amount=None, budget=sum(amounts) + 1)
    await enrol(
        client,
        agency,
        programme["id"],
        csv_body([(p.person_id, str(a), "r") for p, a in zip(people, amounts, strict=True)]),
    )
    await released_batch(client, agency, programme["id"], len(amounts), sum(amounts), cycle="2026-10")
    pid = uuid.UUID(programme["id"])
    await _conservation(db, pid, sum(amounts))
    if case["crash_after_claim"]:
        from payments.disbursement import dispatch

        await dispatch._claim(ctx)  # a worker that dies right after committing its claim
        await db.execute("UPDATE payments SET lease_until = now() - interval '1 second' WHERE state = 'sending'")
    for _ in range(300):
        await dispatch_once(ctx)
        await recover_once(ctx)
        await _conservation(db, pid, sum(amounts))
        left = await db.fetchval(
            "SELECT count(*) FROM payments WHERE programme_id = $1 AND state IN ('approved', 'sending', 'unknown')", pid
        )
        if not left:
            break
        await db.execute("UPDATE payments SET next_check_at = now() WHERE state = 'unknown'")
    else:
        raise AssertionError("payments stuck in progress")
    if case["expire_holds"]:
        await db.execute("UPDATE payments SET hold_until = now() WHERE programme_id = $1 AND state = 'held'", pid)
        await holds.sweep_holds_once(ctx)
    b = await _conservation(db, pid, sum(amounts))
    assert max(provider.executions.values(), default=0) <= 1
    assert b["paid"] == provider.paid_total
    paid_here = await db.fetchval(
        "SELECT coalesce(sum(amount), 0) FROM payments WHERE programme_id = $1 AND state = 'succeeded'", pid
    )
    assert paid_here == provider.paid_total


_STATES = [
    "created", "held", "approved", "sending", "succeeded", "failed", "unknown",
    "reconciled", "reversed", "manual_review", "returned", "cancelled",
]  # fmt: skip


@_SETTINGS
@given(moves=st.lists(st.sampled_from(_STATES), min_size=1, max_size=30))
async def test_no_sequence_of_moves_sends_a_payment_twice(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, moves: list[str]
) -> None:
    people = await add_residents(db, 1)
    programme = await make_programme(client, agency)
    await enrol(client, agency, programme["id"], csv_body([(people[0].person_id, "", "r")]))
    r = await client.post(
        f"/v1/programmes/{programme['id']}/batches",
        json={"cycle": "2026-09", "control_count": 1, "control_sum": 500_000},
        headers=agency.maker,
    )
    payment_id = await db.fetchval("SELECT id FROM payments WHERE batch_id = $1", uuid.UUID(r.json()["id"]))
    for target in moves:
        with contextlib.suppress(asyncpg.CheckViolationError):
            await db.execute(
                """UPDATE payments SET state = $2,
                       hold_reason = CASE WHEN $2 = 'held' THEN 'no_wallet' END,
                       provider = 'localpay', wallet_account = 'w'
                   WHERE id = $1""",
                payment_id,
                target,
            )
    path = [r["to_state"] for r in await db.fetch(
        "SELECT to_state FROM payment_transitions WHERE payment_id = $1 ORDER BY id", payment_id
    )]  # fmt: skip
    assert path.count("succeeded") <= 1
    if "succeeded" in path:
        assert "sending" not in path[path.index("succeeded") :]
        assert "approved" not in path[path.index("succeeded") :]
    for before, after in itertools.pairwise(path):
        if after == "sending":
            assert before == "approved"


@_SETTINGS
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=40),
    count_off=st.integers(min_value=-2, max_value=2),
    sum_off=st.integers(min_value=-2, max_value=2),
)
async def test_a_batch_exists_only_with_the_totals_of_its_payments(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, amounts: list[int], count_off: int, sum_off: int
) -> None:
    people = await add_residents(db, len(amounts))
    programme = await make_programme(client, agency, fixed_amount=None, budget=10**12)
    await enrol(
        client,
        agency,
        programme["id"],
        csv_body([(p.person_id, str(a), "r") for p, a in zip(people, amounts, strict=True)]),
    )
    count, total = len(amounts) + count_off, sum(amounts) + sum_off
    r = await client.post(
        f"/v1/programmes/{programme['id']}/batches",
        json={"cycle": "2026-08", "control_count": max(count, 1), "control_sum": max(total, 1)},
        headers=agency.maker,
    )
    if (max(count, 1), max(total, 1)) == (len(amounts), sum(amounts)):
        assert r.status_code == 201
        stored = await db.fetchrow(
            "SELECT count(*), sum(amount) FROM payments WHERE batch_id = $1", uuid.UUID(r.json()["id"])
        )
        assert tuple(stored) == (len(amounts), sum(amounts))
    else:
        assert r.status_code == 422
        assert (
            await db.fetchval("SELECT count(*) FROM payments WHERE programme_id = $1", uuid.UUID(programme["id"])) == 0
        )


async def test_the_database_refuses_a_ledger_posting_that_does_not_balance_or_names_nothing(
    db: asyncpg.Pool, client: httpx.AsyncClient, agency: Agency
) -> None:
    programme_id = uuid.UUID((await make_programme(client, agency))["id"])
    account = {
        r["kind"]: r["id"]
        for r in await db.fetch("SELECT kind, id FROM ledger_accounts WHERE programme_id = $1", programme_id)
    }
    tx = await db.fetchval(
        "INSERT INTO ledger_transactions (programme_id, kind) VALUES ($1, 'cancel') RETURNING id", programme_id
    )
    insert = "INSERT INTO ledger_entries (transaction_id, account_id, amount) VALUES "
    # Off by one đồng, and one leg alone (the other leg in a later statement): both refused.
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(insert + "($1, $2, -5), ($1, $3, 4)", tx, account["budget"], account["returned"])
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(insert + "($1, $2, -5)", tx, account["budget"])
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute(insert + "($1, $2, -5), ($1, 999999, 5)", tx, account["budget"])
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute(insert + "(999999, $1, -5), (999999, $2, 5)", account["budget"], account["returned"])
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute("INSERT INTO ledger_transactions (programme_id, kind) VALUES ($1, 'cancel')", uuid.uuid4())
    with pytest.raises(asyncpg.PostgresError):
        await db.execute("DELETE FROM ledger_accounts WHERE id = $1", account["returned"])
    await db.execute(insert + "($1, $2, -5), ($1, $3, 5)", tx, account["budget"], account["returned"])
    assert await ledger.unbalanced_transactions(db) == 0
    with pytest.raises(asyncpg.PostgresError):
        await db.execute("UPDATE ledger_entries SET amount = 6 WHERE transaction_id = $1 AND amount = 5", tx)
