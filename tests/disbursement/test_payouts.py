"""Exactly-once payouts: the dispatcher, unknown outcomes, leases, callbacks, holds, deaths."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import asyncpg
import httpx

from payments.disbursement import holds, ledger
from payments.disbursement.dispatch import dispatch_once, recover_once
from payments.providers import PROVIDERS
from payments.providers.signing import sign_webhook
from tests.disbursement.conftest import Agency, add_residents, csv_body, enrol, make_programme, released_batch
from tests.disbursement.local_provider import LocalProvider, LocalRegistry
from tests.support.settings import replaced
from wallet_api.worker_context import WorkerContext


async def _setup(client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, n: int, **kw: Any) -> tuple[str, str]:
    people = await add_residents(db, n, **kw)
    programme = await make_programme(client, agency)
    await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", f"R{i}") for i, p in enumerate(people)]))
    batch_id = await released_batch(client, agency, programme["id"], n, n * 500_000)
    return str(programme["id"]), batch_id


async def _drain(ctx: WorkerContext, rounds: int = 200) -> None:
    for _ in range(rounds):
        moved = await dispatch_once(ctx) + await recover_once(ctx)
        if moved == 0:
            pending = await ctx.pool.fetchval(
                "SELECT count(*) FROM payments WHERE state IN ('approved', 'sending', 'unknown')"
            )
            if pending == 0:
                return
            await ctx.pool.execute(
                "UPDATE payments SET next_check_at = now() WHERE state = 'unknown'"
            )  # skip the back-off wait
    raise AssertionError("payments still in progress")


async def _states(db: asyncpg.Pool) -> dict[str, int]:
    return {r["state"]: r["n"] for r in await db.fetch("SELECT state, count(*) AS n FROM payments GROUP BY 1")}


async def test_an_approved_batch_is_paid_once_and_the_ledger_follows(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    programme_id, _ = await _setup(client, agency, db, 250)
    await _drain(worker_ctx)
    assert await _states(db) == {"succeeded": 250}
    assert provider.requests == 3  # bulk size 100
    assert max(provider.executions.values()) == 1 and len(provider.executions) == 250
    balances = await ledger.balances(db, uuid.UUID(programme_id))
    assert balances["paid"] == 125_000_000 == provider.paid_total
    assert balances["reserved"] == 0 and balances["in_flight:localpay"] == 0
    events = await db.fetchval("SELECT count(*) FROM outbox WHERE topic = 'payment.succeeded'")
    assert events in (0, 250)  # rows exist only once a consumer (notifications) subscribes


async def test_time_outs_after_the_provider_committed_become_unknown_then_succeeded_without_resending(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    provider.timeout_after_commit = 1.0
    await _setup(client, agency, db, 50)
    await dispatch_once(worker_ctx)
    assert await _states(db) == {"unknown": 50}
    provider.timeout_after_commit = 0.0
    requests_before = provider.requests
    await _drain(worker_ctx)
    assert await _states(db) == {"succeeded": 50}
    assert provider.requests == requests_before  # resolved by status queries, nothing resent
    assert max(provider.executions.values()) == 1
    reasons = await db.fetch("SELECT DISTINCT reason FROM payment_transitions WHERE to_state = 'unknown'")
    assert [r["reason"] for r in reasons] == ["provider_unavailable"]


async def test_a_payment_the_provider_never_saw_is_resent_with_the_same_id_after_the_grace_period(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    provider.timeout_before = 1.0
    await _setup(client, agency, db, 10)
    await dispatch_once(worker_ctx)
    provider.timeout_before = 0.0
    await recover_once(worker_ctx)  # not found, but within the grace period: wait
    assert await _states(db) == {"unknown": 10}
    assert provider.requests == 1
    ctx = worker_ctx.replaced(settings=replaced(worker_ctx.settings, payout_not_found_grace_seconds=0))
    await db.execute("UPDATE payments SET next_check_at = now()")
    await _drain(ctx)
    assert await _states(db) == {"succeeded": 10}
    attempts = {r["send_attempts"] for r in await db.fetch("SELECT send_attempts FROM payments")}
    assert attempts == {2}
    assert max(provider.executions.values()) == 1


async def test_a_crashed_workers_payments_are_resolved_after_its_lease(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    await _setup(client, agency, db, 20)
    # A worker claims, sends half and dies before recording anything.
    from payments.disbursement import dispatch

    claimed = await dispatch._claim(worker_ctx)
    from payments.providers.base import PayoutItem

    await provider.payout([PayoutItem(str(c.id), c.wallet_account, c.amount, c.description) for c in claimed[:10]])
    assert await _states(db) == {"sending": 20}
    await recover_once(worker_ctx)  # leases still valid: nothing happens
    assert await _states(db) == {"sending": 20}
    await db.execute("UPDATE payments SET lease_until = now() - interval '1 second'")
    other = dataclasses.replace(
        worker_ctx.replaced(settings=replaced(worker_ctx.settings, payout_not_found_grace_seconds=0)),
        worker_id="another-worker",
    )
    await _drain(other)
    assert await _states(db) == {"succeeded": 20}
    assert max(provider.executions.values()) == 1 and len(provider.executions) == 20


async def test_a_closed_wallet_fails_and_the_money_returns(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    people = await add_residents(db, 3)
    provider.closed_wallets.add(str(people[0].wallet_account))
    programme = await make_programme(client, agency)
    await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", "r") for p in people]))
    await released_batch(client, agency, programme["id"], 3, 1_500_000)
    await _drain(worker_ctx)
    assert await _states(db) == {"succeeded": 2, "failed": 1}
    balances = await ledger.balances(db, uuid.UUID(programme["id"]))
    assert (balances["paid"], balances["returned"], balances["in_flight:localpay"]) == (1_000_000, 500_000, 0)


async def test_rate_limited_calls_put_payments_back_without_sending(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    provider.rate_limited = 1.0
    await _setup(client, agency, db, 5)
    await dispatch_once(worker_ctx)
    assert await _states(db) == {"approved": 5}
    provider.rate_limited = 0.0
    await _drain(worker_ctx)
    assert await _states(db) == {"succeeded": 5}


def _signed(body: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {**sign_webhook(secret, raw), "Content-Type": "application/json"}


async def test_callbacks_are_verified_and_applied_once(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, app: Any
) -> None:
    momo = LocalProvider(code="momo", timeout_after_commit=1.0)
    ctx = worker_ctx.replaced(services={PROVIDERS: LocalRegistry(momo)})
    programme_id, _ = await _setup(client, agency, db, 1, provider="momo")
    await dispatch_once(ctx)
    assert await _states(db) == {"unknown": 1}
    payment_id = str(await db.fetchval("SELECT id FROM payments"))
    secret = app.state.services.get(PROVIDERS).config("momo").webhook_secret
    event = {"event_id": "e1", "payment_id": payment_id, "state": "succeeded", "provider_ref": "ref-1"}
    raw, headers = _signed(event, "not-the-secret")
    r = await client.post("/v1/providers/momo/payout-events", content=raw, headers=headers)
    assert r.status_code == 401
    assert r.json()["type"].endswith("/webhook-signature")
    raw, headers = _signed(event, secret)
    r = await client.post("/v1/providers/momo/payout-events", content=raw, headers=headers)
    assert r.json() == {"status": "applied"}
    r = await client.post("/v1/providers/momo/payout-events", content=raw, headers=headers)
    assert r.json() == {"status": "duplicate"}
    raw, headers = _signed({**event, "event_id": "e2"}, secret)
    r = await client.post("/v1/providers/momo/payout-events", content=raw, headers=headers)
    assert r.json() == {"status": "ignored"}
    r = await client.post("/v1/providers/nosuchpay/payout-events", content=raw, headers=headers)
    assert r.status_code == 404
    assert await _states(db) == {"succeeded": 1}
    assert await db.fetchval("SELECT count(*) FROM ledger_transactions WHERE kind = 'settle'") == 1
    assert (await ledger.balances(db, uuid.UUID(programme_id)))["paid"] == 500_000


async def test_batched_callbacks_are_applied_set_wise_once_each(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, app: Any
) -> None:
    momo = LocalProvider(code="momo", timeout_after_commit=1.0)
    ctx = worker_ctx.replaced(services={PROVIDERS: LocalRegistry(momo)})
    programme_id, _ = await _setup(client, agency, db, 3, provider="momo")
    await dispatch_once(ctx)
    assert await _states(db) == {"unknown": 3}
    paid, refused, other = [str(r["id"]) for r in await db.fetch("SELECT id FROM payments ORDER BY id")]
    secret = app.state.services.get(PROVIDERS).config("momo").webhook_secret
    events = [
        {"event_id": "b1", "payment_id": paid, "state": "succeeded", "provider_ref": "ref-1"},
        {"event_id": "b1", "payment_id": paid, "state": "succeeded", "provider_ref": "ref-1"},
        {"event_id": "b2", "payment_id": refused, "state": "failed", "reason": "account_closed"},
        {"event_id": "b3", "payment_id": str(uuid.uuid4()), "state": "succeeded"},
        {"event_id": "b4", "payment_id": "not-a-uuid", "state": "succeeded"},
    ]
    raw, headers = _signed({"events": events}, secret)
    r = await client.post("/v1/providers/momo/payout-events", content=raw, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"applied": 2, "duplicate": 1, "ignored": 2}
    r = await client.post("/v1/providers/momo/payout-events", content=raw, headers=headers)
    assert r.json() == {"applied": 0, "duplicate": 4, "ignored": 1}
    states = {str(r["id"]): r["state"] for r in await db.fetch("SELECT id, state FROM payments")}
    assert (states[paid], states[refused], states[other]) == ("succeeded", "failed", "unknown")
    balances = await ledger.balances(db, uuid.UUID(programme_id))
    assert (balances["paid"], balances["returned"], balances["in_flight:momo"]) == (500_000, 500_000, 500_000)
    raw, headers = _signed({"events": [{"event_id": "b5"}]}, secret)
    r = await client.post("/v1/providers/momo/payout-events", content=raw, headers=headers)
    assert r.status_code == 422


async def test_linking_a_wallet_within_the_window_releases_a_held_payment(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext
) -> None:
    await _setup(client, agency, db, 1, wallet=False)
    assert await db.fetchval("SELECT hold_reason FROM payments") == "no_wallet"
    account_id = await db.fetchval("SELECT account_id FROM payments")
    await db.execute(
        """INSERT INTO wallet_links (account_id, provider, wallet_account, state, is_default)
           VALUES ($1, 'localpay', 'w-new', 'active', true)""",
        account_id,
    )
    async with db.acquire() as conn, conn.transaction():
        assert await holds.release_holds(conn, [account_id]) == 1
    await _drain(worker_ctx)
    assert await _states(db) == {"succeeded": 1}


async def test_a_hold_that_ends_returns_the_money_and_lists_who_was_not_reached(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext
) -> None:
    programme_id, batch_id = await _setup(client, agency, db, 2, wallet=False)
    await db.execute("UPDATE payments SET hold_until = now() - interval '1 second'")
    await holds.sweep_holds_once(worker_ctx)
    assert await _states(db) == {"returned": 2}
    balances = await ledger.balances(db, uuid.UUID(programme_id))
    assert (balances["reserved"], balances["returned"]) == (0, 1_000_000)
    r = await client.get(f"/v1/batches/{batch_id}/not-reached.csv", headers=agency.maker)
    lines = r.text.strip().splitlines()
    assert len(lines) == 3 and lines[1].endswith(lines[1].split(",")[-1]) and ",no_wallet," in lines[1]


async def test_a_death_in_the_registry_stops_pending_and_future_payments(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    programme_id, _ = await _setup(client, agency, db, 2)
    dead = await db.fetchval("SELECT person_id FROM payments ORDER BY id LIMIT 1")
    await db.execute("UPDATE population SET status = 'deceased', died_on = current_date WHERE person_id = $1", dead)
    await _drain(worker_ctx)
    await holds.sweep_holds_once(worker_ctx)
    assert await _states(db) == {"succeeded": 1, "returned": 1}
    assert dead not in provider.executions
    assert await db.fetchval("SELECT state FROM beneficiaries WHERE person_id = $1", dead) == "stopped"
    r = await client.post(
        f"/v1/programmes/{programme_id}/batches",
        json={"cycle": "2026-12", "control_count": 1, "control_sum": 500_000},
        headers=agency.maker,
    )
    assert r.status_code == 201, r.text


async def test_a_citizen_sees_only_their_own_payments(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, mint: Any
) -> None:
    await _setup(client, agency, db, 2)
    await _drain(worker_ctx)
    account_id = await db.fetchval("SELECT account_id FROM payments ORDER BY id LIMIT 1")
    headers = await mint(kind="citizen", subject=str(account_id), level=2)
    r = await client.get("/v1/me/payments", headers=headers)
    assert r.status_code == 200
    assert [(p["amount"], p["state"]) for p in r.json()] == [(500_000, "succeeded")]


async def test_the_state_machine_refuses_a_second_send(
    db: asyncpg.Pool, client: httpx.AsyncClient, agency: Agency, worker_ctx: WorkerContext
) -> None:
    await _setup(client, agency, db, 1)
    await _drain(worker_ctx)
    try:
        await db.execute("UPDATE payments SET state = 'sending'")
    except asyncpg.CheckViolationError:
        pass
    else:
        raise AssertionError("succeeded → sending was allowed")
