"""HTTP routes: the agency API (programmes, enrolment, batches, reports), provider
callbacks, reconciliation imports, and the citizen's own payments."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from payments.disbursement import batches, programmes, reconciliation, reports, webhooks
from payments.disbursement.schemas import (
    BatchApproval,
    BatchIn,
    BatchOut,
    EnrolmentOut,
    MyPayment,
    ProgrammeIn,
    ProgrammeOut,
    ReconciliationOut,
    RuleEnrolmentIn,
    StateTotal,
)
from wallet_api.kernel import (
    CALLBACK_BODY_LIMIT,
    FILE_BODY_LIMIT,
    PUBLIC,
    AppServices,
    Caller,
    Db,
    NotFound,
    Principal,
    Problem,
    ValidationFailed,
    citizen,
    decode_json,
    officer_with_role,
    principal_of,
)

__all__ = ["ROUTES"]

maker = officer_with_role("welfare_maker")
checker = officer_with_role("welfare_checker")
welfare_officer = officer_with_role("welfare_maker", "welfare_checker")
operator = officer_with_role("admin")

_AnyRequest = Request[Any, Any, Any]


def _require_csv(request: _AnyRequest) -> None:
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media not in ("text/csv", "application/csv"):
        raise Problem("Send the file as text/csv.", slug="unsupported-media-type", status=415)


class ProgrammeController(Controller):
    path = "/v1/programmes"
    tags = ("disbursement",)

    @post("/", guards=[maker], status_code=HTTP_201_CREATED, summary="Create a programme")
    async def create(self, principal: Caller, db: Db, data: ProgrammeIn) -> ProgrammeOut:
        async with db.acquire() as conn, conn.transaction():
            row = await programmes.create_programme(conn, principal, data)
            return ProgrammeOut(**await programmes.programme_summary(conn, row))

    @get("/", guards=[welfare_officer], summary="My organisation's programmes")
    async def list_programmes(self, principal: Caller, db: Db) -> list[ProgrammeOut]:
        rows = await db.fetch("SELECT * FROM programmes WHERE org_id = $1 ORDER BY created_at", principal.org_id)
        return [ProgrammeOut(**await programmes.programme_summary(db, r)) for r in rows]

    @get("/{programme_id:uuid}", guards=[welfare_officer], summary="A programme with its ledger balances")
    async def show(self, principal: Caller, db: Db, programme_id: FromPath[UUID]) -> ProgrammeOut:
        row = await programmes.programme_for(db, programme_id, principal)
        return ProgrammeOut(**await programmes.programme_summary(db, row))

    @post(
        "/{programme_id:uuid}/enrolments",
        guards=[maker],
        status_code=HTTP_201_CREATED,
        summary="Enrol beneficiaries from a CSV upload (person_id,amount,agency_reference), streamed",
        request_max_body_size=FILE_BODY_LIMIT,
    )
    async def upload(self, request: _AnyRequest, db: Db, programme_id: FromPath[UUID]) -> EnrolmentOut:
        who = principal_of(request)
        _require_csv(request)
        row = await programmes.programme_for(db, programme_id, who)
        async with db.acquire() as conn:
            return await programmes.enrol_upload(conn, who, row, request.stream())

    @post(
        "/{programme_id:uuid}/enrolments/rule",
        guards=[maker],
        status_code=HTTP_201_CREATED,
        summary="Enrol residents from the registry by rule (provinces, age)",
    )
    async def enrol_rule(
        self, principal: Caller, db: Db, programme_id: FromPath[UUID], data: RuleEnrolmentIn
    ) -> EnrolmentOut:
        row = await programmes.programme_for(db, programme_id, principal)
        async with db.acquire() as conn:
            return await programmes.enrol_by_rule(conn, principal, row, data)

    @get(
        "/{programme_id:uuid}/enrolments/{enrolment_id:uuid}/report.csv",
        guards=[welfare_officer],
        summary="Per-row outcome of an enrolment upload",
    )
    async def enrolment_report(
        self, principal: Caller, db: Db, programme_id: FromPath[UUID], enrolment_id: FromPath[UUID]
    ) -> Stream:
        await programmes.programme_for(db, programme_id, principal)
        if not await db.fetchval(
            "SELECT true FROM enrolments WHERE id = $1 AND programme_id = $2", enrolment_id, programme_id
        ):
            raise NotFound("No such enrolment.")
        return reports.enrolment_download(db, enrolment_id)

    @post("/{programme_id:uuid}/batches", guards=[maker], status_code=HTTP_201_CREATED, summary="Create a batch")
    async def create_batch(self, principal: Caller, db: Db, programme_id: FromPath[UUID], data: BatchIn) -> BatchOut:
        row = await programmes.programme_for(db, programme_id, principal)
        async with db.acquire() as conn:
            batch_id = await batches.create_batch(conn, principal, row, data)
        return await _batch_out(db, batch_id, principal)

    @get("/{programme_id:uuid}/report", guards=[welfare_officer], summary="Payments by state and reconciliation")
    async def report(self, principal: Caller, db: Db, programme_id: FromPath[UUID]) -> dict[str, Any]:
        row = await programmes.programme_for(db, programme_id, principal)
        out = await reports.programme_progress(db, programme_id)
        out["ledger"] = (await programmes.programme_summary(db, row))["ledger"]
        return out

    @get(
        "/{programme_id:uuid}/reconciliation.csv",
        guards=[welfare_officer],
        summary="Every reconciliation line of the programme's payments",
    )
    async def reconciliation_csv(self, principal: Caller, db: Db, programme_id: FromPath[UUID]) -> Stream:
        await programmes.programme_for(db, programme_id, principal)
        return reports.reconciliation_download(db, "l.programme_id", programme_id)


async def _batch_out(db: Any, batch_id: FromPath[UUID], principal: Principal) -> BatchOut:
    b = await batches.batch_for(db, batch_id, principal)
    return BatchOut(
        id=str(b["id"]),
        programme_id=str(b["programme_id"]),
        cycle=b["cycle"],
        state=b["state"],
        control_count=b["control_count"],
        control_sum=b["control_sum"],
        maker=b["maker"],
        checker=b["checker"],
        created_at=b["created_at"],
        approved_at=b["approved_at"],
        released_at=b["released_at"],
        cancelled_at=b["cancelled_at"],
        progress=[StateTotal(**p) for p in await batches.progress(db, batch_id)],
    )


class BatchController(Controller):
    path = "/v1/batches"
    tags = ("disbursement",)

    @get("/{batch_id:uuid}", guards=[welfare_officer], summary="A batch and its progress by state")
    async def show(self, principal: Caller, db: Db, batch_id: FromPath[UUID]) -> BatchOut:
        return await _batch_out(db, batch_id, principal)

    @post("/{batch_id:uuid}/approve", guards=[checker], status_code=HTTP_200_OK, summary="Approve (four eyes)")
    async def approve(self, principal: Caller, db: Db, batch_id: FromPath[UUID], data: BatchApproval) -> BatchOut:
        async with db.acquire() as conn:
            await batches.approve_batch(conn, principal, batch_id, data)
        return await _batch_out(db, batch_id, principal)

    @post("/{batch_id:uuid}/release", guards=[checker], status_code=HTTP_200_OK, summary="Reserve budget and pay")
    async def release(self, principal: Caller, db: Db, batch_id: FromPath[UUID]) -> BatchOut:
        async with db.acquire() as conn:
            await batches.release_batch(conn, principal, batch_id)
        return await _batch_out(db, batch_id, principal)

    @post("/{batch_id:uuid}/cancel", guards=[welfare_officer], status_code=HTTP_200_OK, summary="Cancel before release")
    async def cancel(self, principal: Caller, db: Db, batch_id: FromPath[UUID]) -> BatchOut:
        async with db.acquire() as conn:
            await batches.cancel_batch(conn, principal, batch_id)
        return await _batch_out(db, batch_id, principal)

    @get("/{batch_id:uuid}/failures.csv", guards=[welfare_officer], summary="Failed, unknown and reviewed payments")
    async def failures(self, principal: Caller, db: Db, batch_id: FromPath[UUID]) -> Stream:
        await batches.batch_for(db, batch_id, principal)
        return reports.failures_download(db, batch_id)

    @get("/{batch_id:uuid}/not-reached.csv", guards=[welfare_officer], summary="Held until the window ended")
    async def not_reached(self, principal: Caller, db: Db, batch_id: FromPath[UUID]) -> Stream:
        await batches.batch_for(db, batch_id, principal)
        return reports.not_reached_download(db, batch_id)

    @get("/{batch_id:uuid}/reconciliation.csv", guards=[welfare_officer], summary="Reconciliation lines of a batch")
    async def reconciliation_csv(self, principal: Caller, db: Db, batch_id: FromPath[UUID]) -> Stream:
        await batches.batch_for(db, batch_id, principal)
        return reports.reconciliation_download(db, "l.batch_id", batch_id)


@post(
    "/v1/reconciliations",
    guards=[operator],
    status_code=HTTP_201_CREATED,
    tags=["disbursement"],
    summary="Import a provider's daily statement (CSV) and classify every line",
    request_max_body_size=FILE_BODY_LIMIT,
)
async def import_statement(
    request: _AnyRequest, db: Db, provider: FromQuery[str], day: FromQuery[date]
) -> ReconciliationOut:
    _require_csv(request)
    async with db.acquire() as conn:
        out = await reconciliation.reconcile_csv(conn, provider, day, request.stream(), principal_of(request).key)
    return ReconciliationOut(**out)


@post(
    "/v1/providers/{provider:str}/payout-events",
    opt=PUBLIC,
    status_code=HTTP_200_OK,
    tags=["disbursement"],
    summary="Signed payout callback from an e-wallet provider (deduplicated)",
    request_max_body_size=CALLBACK_BODY_LIMIT,
)
async def payout_event(request: _AnyRequest, db: Db, services: AppServices, provider: FromPath[str]) -> dict[str, Any]:
    body = await request.body()
    webhooks.verify(services, provider, request.headers.get("wallet-signature"), body)
    try:
        incoming = decode_json(body, webhooks.IncomingEvents)
    except msgspec.DecodeError as exc:
        raise ValidationFailed(str(exc)) from None
    if incoming.events is None:
        event = incoming.single()
        async with db.acquire() as conn, conn.transaction():
            return {"status": await webhooks.apply_event(conn, provider, event)}
    async with db.acquire() as conn, conn.transaction():
        statuses = await webhooks.apply_events(conn, provider, incoming.events)
    counts = {"applied": 0, "duplicate": 0, "ignored": 0}
    for status in statuses:
        counts[status] += 1
    return counts


@get("/v1/me/payments", guards=[citizen], tags=["disbursement"], summary="My benefit payments and their status")
async def my_payments(principal: Caller, db: Db) -> list[MyPayment]:
    rows = await db.fetch(
        """SELECT p.id, pr.name, p.cycle, p.amount, p.state, p.hold_reason, p.hold_until, p.provider, p.updated_at
           FROM payments p JOIN programmes pr ON pr.id = p.programme_id
           WHERE p.account_id = $1 AND p.state <> 'cancelled'
           ORDER BY p.updated_at DESC LIMIT 200""",
        UUID(principal.subject),
    )
    return [
        MyPayment(
            id=str(r["id"]),
            programme_name=r["name"],
            cycle=r["cycle"],
            amount=r["amount"],
            state=r["state"],
            hold_reason=r["hold_reason"],
            hold_until=r["hold_until"] if r["state"] == "held" else None,
            provider=r["provider"],
            updated_at=r["updated_at"],
        )
        for r in rows
    ]


ROUTES = [ProgrammeController, BatchController, import_statement, payout_event, my_payments]
