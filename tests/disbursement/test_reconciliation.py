"""Reconciliation: every line of a provider statement classified, payments and ledger moved."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.disbursement import ledger, reconciliation
from payments.disbursement.dispatch import dispatch_once
from tests.disbursement.conftest import Agency, add_residents, csv_body, enrol, make_programme, released_batch
from tests.disbursement.ledger_checks import assert_every_account_settles
from tests.disbursement.local_provider import LocalProvider
from wallet_api.worker_context import WorkerContext


async def _paid_batch(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, ctx: WorkerContext, n: int
) -> tuple[str, str]:
    people = await add_residents(db, n)
    programme = await make_programme(client, agency)
    await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", "r") for p in people]))
    batch_id = await released_batch(client, agency, programme["id"], n, n * 500_000)
    while await dispatch_once(ctx):
        pass
    return str(programme["id"]), batch_id


async def _statement_csv(
    provider: LocalProvider,
    extra: list[list[str]] | None = None,
    *,
    day: date | None = None,
    leave_out: frozenset[str] = frozenset(),
) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(reconciliation.STATEMENT_HEADER.split(","))
    async for line in provider.statement(day or datetime.now(UTC).date()):
        if line.payment_id in leave_out:
            continue
        w.writerow(
            [line.payment_id, line.provider_ref, line.wallet_account, line.amount, line.kind, line.at.isoformat()]
        )
    for row in extra or []:
        w.writerow(row)
    return out.getvalue().encode()


async def _import(client: httpx.AsyncClient, agency: Agency, body: bytes, day: date | None = None) -> dict[str, object]:
    r = await client.post(
        "/v1/reconciliations",
        params={"provider": "localpay", "day": (day or datetime.now(UTC).date()).isoformat()},
        content=body,
        headers={**agency.operator, "Content-Type": "text/csv"},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_clean_statement_reconciles_every_payment(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    programme_id, batch_id = await _paid_batch(client, agency, db, worker_ctx, 30)
    out = await _import(client, agency, await _statement_csv(provider))
    assert out["counts"] == {"matched": 30}
    assert await db.fetchval("SELECT count(*) FROM payments WHERE state = 'reconciled'") == 30
    r = await client.get(f"/v1/programmes/{programme_id}/report", headers=agency.checker)
    assert r.json()["reconciliation"] == {"matched": 30}
    assert r.json()["ledger"]["paid"] == provider.paid_total
    r = await client.get(f"/v1/batches/{batch_id}/reconciliation.csv", headers=agency.checker)
    assert len(r.text.strip().splitlines()) == 31


async def test_every_kind_of_discrepancy_is_classified(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    programme_id, _ = await _paid_batch(client, agency, db, worker_ctx, 5)
    ids = sorted(provider.books)
    missing = ids[0]
    reversed_id = ids[1]
    provider.reverse(reversed_id)
    day = await _yesterday(db, provider)  # missing only from the statement of a day that is over
    taken_back = provider.books[reversed_id]
    assert taken_back.reversed_at is not None
    taken_back.reversed_at -= timedelta(days=1)
    del provider.books[missing]  # we paid it, the provider's statement does not have it
    body = await _statement_csv(
        provider,
        day=day,
        extra=[
            [ids[2], "dup-ref", "w", "500000", "payout", datetime.now(UTC).isoformat()],  # paid twice
            [str(uuid.uuid4()), "x-ref", "w", "500000", "payout", datetime.now(UTC).isoformat()],  # not ours
        ],
    )
    # An amount that differs from ours.
    body = body.replace(f"{ids[3]},".encode(), f"{ids[3]},".encode(), 1)
    text = body.decode().splitlines()
    text = [line.replace(",500000,", ",400000,") if line.startswith(ids[3]) else line for line in text]
    out = await _import(client, agency, ("\n".join(text) + "\n").encode(), day)
    assert out["counts"] == {
        "matched": 3,  # ids[1] (then reversed), ids[2] first line, ids[4]
        "duplicate": 1,
        "unknown_to_us": 1,
        "amount_mismatch": 1,
        "reversal": 1,
        "missing_at_provider": 1,
    }
    states = dict(await db.fetch("SELECT id::text, state FROM payments"))
    assert states[missing] == "manual_review"
    assert states[ids[3]] == "manual_review"
    assert states[reversed_id] == "reversed"
    assert states[ids[4]] == "reconciled"
    balances = await ledger.balances(db, uuid.UUID(programme_id))
    assert balances["returned"] == 500_000 and balances["paid"] == 2_000_000


async def test_importing_needs_the_operator_role(client: httpx.AsyncClient, agency: Agency) -> None:
    r = await client.post(
        "/v1/reconciliations",
        params={"provider": "localpay", "day": "2026-11-23"},
        content=b"payment_id,provider_ref,wallet_account,amount,kind,at\n",
        headers={**agency.checker, "Content-Type": "text/csv"},
    )
    assert r.status_code == 403


async def _yesterday(db: asyncpg.Pool, provider: LocalProvider) -> date:
    """Move the provider's payouts and our settlements to yesterday: a day that is over."""
    for booked in provider.books.values():
        booked.at -= timedelta(days=1)
    await db.execute(
        "UPDATE payments SET settled_at = settled_at - interval '1 day' WHERE id = ANY($1::uuid[])",
        [uuid.UUID(i) for i in provider.books],
    )
    return datetime.now(UTC).date() - timedelta(days=1)


async def _report(client: httpx.AsyncClient, agency: Agency, programme_id: str) -> dict[str, int]:
    r = await client.get(f"/v1/programmes/{programme_id}/report", headers=agency.checker)
    assert r.status_code == 200, r.text
    return dict(r.json()["reconciliation"])


async def _states(db: asyncpg.Pool, programme_id: str | None = None) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT state, count(*) AS n FROM payments WHERE $1::uuid IS NULL OR programme_id = $1 GROUP BY 1",
        None if programme_id is None else uuid.UUID(programme_id),
    )
    return {r["state"]: r["n"] for r in rows}


async def test_a_statement_of_a_day_not_over_flags_nothing_missing_and_the_next_one_completes_it(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    programme_id, _ = await _paid_batch(client, agency, db, worker_ctx, 10)
    still_settling = frozenset(sorted(provider.books)[:4])  # paid, not yet on the provider's statement
    out = await _import(client, agency, await _statement_csv(provider, leave_out=still_settling))
    assert out["counts"] == {"matched": 6}
    assert await _states(db) == {"reconciled": 6, "succeeded": 4}
    assert out["complete"] is False
    out = await _import(client, agency, await _statement_csv(provider))
    assert out["counts"] == {"matched": 10}
    assert await _states(db) == {"reconciled": 10}
    assert await _report(client, agency, programme_id) == {"matched": 10}
    assert len(out["supersedes"]) == 1  # type: ignore[arg-type]
    await assert_every_account_settles(db, uuid.UUID(programme_id))


async def test_a_later_statement_that_matches_payments_under_review_reconciles_them(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    programme_id, _ = await _paid_batch(client, agency, db, worker_ctx, 10)
    day = await _yesterday(db, provider)
    cut_short = frozenset(sorted(provider.books)[:4])
    out = await _import(client, agency, await _statement_csv(provider, day=day, leave_out=cut_short), day)
    assert out["counts"] == {"matched": 6, "missing_at_provider": 4}
    assert await _states(db) == {"reconciled": 6, "manual_review": 4}
    out = await _import(client, agency, await _statement_csv(provider, day=day), day)
    assert out["counts"] == {"matched": 10}
    assert await _states(db) == {"reconciled": 10}
    assert await _report(client, agency, programme_id) == {"matched": 10}
    r = await client.get(f"/v1/programmes/{programme_id}/reconciliation.csv", headers=agency.checker)
    assert len(r.text.strip().splitlines()) == 11
    await assert_every_account_settles(db, uuid.UUID(programme_id))


async def test_importing_the_same_statement_twice_counts_it_once(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    programme_id, batch_id = await _paid_batch(client, agency, db, worker_ctx, 12)
    body = await _statement_csv(provider)
    first = await _import(client, agency, body)
    second = await _import(client, agency, body)
    assert first["counts"] == second["counts"] == {"matched": 12}
    assert await _report(client, agency, programme_id) == {"matched": 12}
    r = await client.get(f"/v1/batches/{batch_id}/reconciliation.csv", headers=agency.checker)
    assert len(r.text.strip().splitlines()) == 13
    assert second["supersedes"] == [first["id"]]
    assert await db.fetchval("SELECT count(*) FROM ledger_transactions WHERE kind = 'settle'") == 12
    await assert_every_account_settles(db, uuid.UUID(programme_id))


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(
    n=st.integers(min_value=1, max_value=8),
    day_over=st.booleans(),
    imports=st.lists(st.sets(st.integers(min_value=0, max_value=7)), min_size=1, max_size=5),
)
async def test_statements_converge_whatever_was_imported_before(
    client: httpx.AsyncClient,
    agency: Agency,
    db: asyncpg.Pool,
    worker_ctx: WorkerContext,
    provider: LocalProvider,
    n: int,
    day_over: bool,
    imports: list[set[int]],
) -> None:
    """Statements of one provider's day, each lacking some payouts (partial while the day
    lasts, complete once it is over), imported any number of times: the latest decides, and
    matched never exceeds the payments."""
    # Hypothesis runs every example in one database: earlier examples' payouts belong to other days.
    provider.books.clear()
    await db.execute("UPDATE payments SET settled_at = settled_at - interval '10 days'")
    programme_id, _ = await _paid_batch(client, agency, db, worker_ctx, n)
    day = await _yesterday(db, provider) if day_over else datetime.now(UTC).date()
    ids = sorted(provider.books)
    for left_out in imports:
        body = await _statement_csv(provider, day=day, leave_out=frozenset(ids[i] for i in left_out if i < n))
        out = await _import(client, agency, body, day)
        assert out["complete"] is day_over
        assert out["counts"].get("matched", 0) == n - len({i for i in left_out if i < n})  # type: ignore[attr-defined]
        assert sum((await _report(client, agency, programme_id)).values()) <= n
    out = await _import(client, agency, await _statement_csv(provider, day=day), day)
    assert out["counts"] == {"matched": n}
    assert await _report(client, agency, programme_id) == {"matched": n}
    assert await _states(db, programme_id) == {"reconciled": n}
    await assert_every_account_settles(db, uuid.UUID(programme_id))


async def test_a_statement_line_copy_would_take_for_its_end_marker_drops_no_line(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, provider: LocalProvider
) -> None:
    """A line ``\\.`` ended COPY: the lines after it were never read, their payments left unmatched."""
    await _paid_batch(client, agency, db, worker_ctx, 4)
    lines = (await _statement_csv(provider)).decode().splitlines()
    body = "\n".join([*lines[:3], "\\.", *lines[3:]]) + "\n"
    out = await _import(client, agency, body.encode())
    assert out["lines"] == 5
    assert out["counts"] == {"matched": 4, "unknown_to_us": 1}
    assert await db.fetchval("SELECT count(*) FROM payments WHERE state = 'reconciled'") == 4
