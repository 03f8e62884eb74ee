"""Every đồng of a settled batch ends where its payment's final state says, whatever path
the payment took through the state machine (review finding D1: a payment sent, put back
to 'approved', whose beneficiary then died, was returned out of 'reserved' a second time
instead of out of 'in_flight').
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.disbursement import dispatch, holds, reconciliation
from payments.disbursement.dispatch import dispatch_once, recover_once
from payments.providers import PROVIDERS
from tests.disbursement.conftest import Agency, add_residents, csv_body, enrol, make_programme, released_batch
from tests.disbursement.ledger_checks import assert_every_account_settles
from tests.disbursement.local_provider import LocalProvider, LocalRegistry
from tests.support.settings import replaced
from wallet_api.worker_context import WorkerContext


def _ctx(worker_ctx: WorkerContext, provider: LocalProvider) -> WorkerContext:
    return worker_ctx.replaced(
        services={PROVIDERS: LocalRegistry(provider)},
        settings=replaced(worker_ctx.settings, payout_not_found_grace_seconds=0),
    )


async def _batch(client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, n: int, **kw: Any) -> uuid.UUID:
    people = await add_residents(db, n, **kw)
    programme = await make_programme(client, agency)
    await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", "r") for p in people]))
    await released_batch(client, agency, programme["id"], n, n * 500_000)
    return uuid.UUID(programme["id"])


async def _die(db: asyncpg.Pool, person_id: str) -> None:
    await db.execute(
        "UPDATE population SET status = 'deceased', died_on = current_date WHERE person_id = $1", person_id
    )


async def test_a_payment_put_back_after_a_429_whose_beneficiary_dies_returns_its_money_from_in_flight(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext
) -> None:
    provider = LocalProvider(rate_limited=1.0)
    ctx = _ctx(worker_ctx, provider)
    programme_id = await _batch(client, agency, db, 1)
    await dispatch_once(ctx)  # claimed (reserved → in flight), then 429: back to approved
    assert await db.fetchval("SELECT state FROM payments") == "approved"
    await _die(db, await db.fetchval("SELECT person_id FROM payments"))
    provider.rate_limited = 0.0
    await dispatch_once(ctx)  # the claim finds the death: held
    await holds.sweep_holds_once(ctx)
    assert await db.fetchval("SELECT state FROM payments") == "returned"
    assert provider.executions == {}
    await assert_every_account_settles(db, programme_id)


async def test_a_payment_resent_after_not_found_whose_beneficiary_dies_returns_its_money_from_in_flight(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext
) -> None:
    provider = LocalProvider(timeout_before=1.0)
    ctx = _ctx(worker_ctx, provider)
    programme_id = await _batch(client, agency, db, 1)
    await dispatch_once(ctx)  # unknown
    await db.execute("UPDATE payments SET next_check_at = now()")
    await recover_once(ctx)  # the provider never saw it: back to approved
    assert await db.fetchval("SELECT state FROM payments") == "approved"
    await _die(db, await db.fetchval("SELECT person_id FROM payments"))
    await dispatch_once(ctx)
    await holds.sweep_holds_once(ctx)
    assert await db.fetchval("SELECT state FROM payments") == "returned"
    await assert_every_account_settles(db, programme_id)


# One step of a path: what the provider does to the next dispatch, or what else happens.
_STEPS = st.sampled_from(
    [
        "pay",
        "rate_limited",
        "lost_before",  # time-out before the provider saw the request
        "lost_after",  # time-out after the provider paid
        "refused",  # the wallet is closed at the provider
        "crash",  # a worker claims and dies
        "recover",  # status queries (not found → resent)
        "death",  # a beneficiary dies
        "link",  # a beneficiary without a wallet links one
        "intraday_statement",  # the provider's statement, fetched while payments settle
        "reversal",  # the provider takes a payout back
    ]
)


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(steps=st.lists(_STEPS, min_size=1, max_size=12), n=st.integers(min_value=1, max_value=4))
async def test_every_account_of_a_settled_batch_ends_at_zero_whatever_path_its_payments_took(
    client: httpx.AsyncClient,
    agency: Agency,
    db: asyncpg.Pool,
    worker_ctx: WorkerContext,
    steps: list[str],
    n: int,
) -> None:
    provider = LocalProvider(bulk_size=2, seed=len(steps))
    ctx = _ctx(worker_ctx, provider)
    linked = await add_residents(db, n)
    unlinked = await add_residents(db, 1, wallet=False)
    people = linked + unlinked
    programme = await make_programme(client, agency)
    programme_id = uuid.UUID(programme["id"])
    await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", "r") for p in people]))
    await released_batch(client, agency, programme["id"], len(people), len(people) * 500_000, cycle="2026-07")
    day = datetime.now(UTC).date()
    alive = [p.person_id for p in people]
    for step in steps:
        provider.rate_limited = 1.0 if step == "rate_limited" else 0.0
        provider.timeout_before = 1.0 if step == "lost_before" else 0.0
        provider.timeout_after_commit = 1.0 if step == "lost_after" else 0.0
        if step == "refused":
            provider.closed_wallets.update(str(p.wallet_account) for p in linked)
        elif step == "pay":
            provider.closed_wallets.clear()
        if step == "crash":
            await dispatch._claim(ctx)
            await db.execute("UPDATE payments SET lease_until = now() - interval '1 second' WHERE state = 'sending'")
        elif step == "recover":
            await db.execute("UPDATE payments SET next_check_at = now() WHERE state = 'unknown'")
            await recover_once(ctx)
        elif step == "death" and alive:
            await _die(db, alive.pop())
            await holds.sweep_holds_once(ctx)
        elif step == "link":
            account_id = unlinked[0].account_id
            assert account_id is not None
            await db.execute(
                """INSERT INTO wallet_links (account_id, provider, wallet_account, state, is_default)
                   VALUES ($1, 'localpay', $2, 'active', true) ON CONFLICT DO NOTHING""",
                account_id,
                f"w-{uuid.uuid4().hex[:12]}",
            )
            async with db.acquire() as conn, conn.transaction():
                await holds.release_holds(conn, [account_id])
        elif step == "intraday_statement":
            async with db.acquire() as conn:
                await reconciliation.reconcile_lines(conn, "localpay", day, provider.statement(day), "test")
        elif step == "reversal":
            paid = [b for b in provider.books.values() if b.reversed_at is None]
            if paid:
                provider.reverse(paid[0].payment_id)
        else:
            await dispatch_once(ctx)
    # Settle everything: the provider behaves, the workers finish, holds end, the day closes.
    provider.rate_limited = provider.timeout_before = provider.timeout_after_commit = 0.0
    for _ in range(100):
        await db.execute("UPDATE payments SET next_check_at = now() WHERE state = 'unknown'")
        await db.execute("UPDATE payments SET lease_until = now() WHERE state = 'sending'")
        moved = await dispatch_once(ctx) + await recover_once(ctx)
        left = await db.fetchval("SELECT count(*) FROM payments WHERE state IN ('approved', 'sending', 'unknown')")
        if not left and not moved:
            break
    else:
        raise AssertionError("payments stuck in progress")
    await db.execute("UPDATE payments SET hold_until = now() WHERE state = 'held'")
    await holds.sweep_holds_once(ctx)
    async with db.acquire() as conn:
        await reconciliation.reconcile_lines(conn, "localpay", day, provider.statement(day), "test")
    await assert_every_account_settles(db, programme_id)
    assert max(provider.executions.values(), default=0) <= 1
