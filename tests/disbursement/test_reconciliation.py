"""Reconciliation: every line of a provider statement classified, payments and ledger moved."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx

from payments.disbursement import ledger, reconciliation
from payments.disbursement.dispatch import dispatch_once
from tests.disbursement.conftest import Agency, add_residents, csv_body, enrol, make_programme, released_batch
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


async def _statement_csv(provider: LocalProvider, extra: list[list[str]] | None = None) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(reconciliation.STATEMENT_HEADER.split(","))
    async for line in provider.statement(datetime.now(UTC).date()):
        w.writerow(
            [line.payment_id, line.provider_ref, line.wallet_account, line.amount, line.kind, line.at.isoformat()]
        )
    for row in extra or []:
        w.writerow(row)
    return out.getvalue().encode()


async def _import(client: httpx.AsyncClient, agency: Agency, body: bytes) -> dict[str, object]:
    r = await client.post(
        "/v1/reconciliations",
        params={"provider": "localpay", "day": datetime.now(UTC).date().isoformat()},
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
    del provider.books[missing]  # we paid it, the provider's statement does not have it
    body = await _statement_csv(
        provider,
        extra=[
            [ids[2], "dup-ref", "w", "500000", "payout", datetime.now(UTC).isoformat()],  # paid twice
            [str(uuid.uuid4()), "x-ref", "w", "500000", "payout", datetime.now(UTC).isoformat()],  # not ours
        ],
    )
    # An amount that differs from ours.
    body = body.replace(f"{ids[3]},".encode(), f"{ids[3]},".encode(), 1)
    text = body.decode().splitlines()
    text = [line.replace(",500000,", ",400000,") if line.startswith(ids[3]) else line for line in text]
    out = await _import(client, agency, ("\n".join(text) + "\n").encode())
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
