"""The welfare agency console at ``/welfare``: programmes, enrolment, maker-checker batches,
live progress, failures, reconciliation and the programme report.

Every action calls the function behind the disbursement API (payments/disbursement/) as the
signed-in officer, under the same guards: makers create, checkers approve and release, the
maker of a batch is refused as its checker (the page shows no button, the server refuses
anyway), and the platform operator (``admin``) imports provider statements.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, ServerSentEvent, Stream, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_303_SEE_OTHER

from consoles.pages import PAGE, page
from consoles.session import SESSION_SECONDS, require_csrf
from payments.disbursement import batches, programmes, reconciliation, reports
from payments.disbursement.schemas import BatchApproval, BatchIn, EnrolmentOut, ProgrammeIn
from wallet_api.kernel import Caller, Db, NotFound, ValidationFailed, officer_with_role

__all__ = ["ROLES", "ROUTES"]

ROLES = frozenset({"welfare_maker", "welfare_checker", "admin"})
_maker = officer_with_role("welfare_maker")
_checker = officer_with_role("welfare_checker")
_officer = officer_with_role("welfare_maker", "welfare_checker")
_operator = officer_with_role("admin")
_AnyRequest = Request[Any, Any, Any]
#: Payment states in which nothing more will happen without someone acting: the batch's progress.
_SETTLED = frozenset({"succeeded", "reconciled", "failed", "returned", "reversed", "manual_review", "cancelled"})
_REPORT_ROWS_SHOWN = 2000
#: The batch's payments settled so far, counted up per second (per minute once the batch has
#: been paying for more than ten minutes), so that a reloaded page draws the chart the live
#: events would have drawn. A failed payment has no ``settled_at``: it settled when last updated.
_SETTLED_OVER_TIME = """
WITH settled AS (
    SELECT coalesce(settled_at, updated_at) AS at FROM payments WHERE batch_id = $1 AND state = ANY($2::text[])
), unit AS (
    SELECT CASE WHEN max(at) - min(at) > interval '10 minutes' THEN 'minute' ELSE 'second' END AS name FROM settled
)
SELECT at, sum(n) OVER (ORDER BY at)::bigint AS done FROM (
    SELECT extract(epoch FROM date_trunc(unit.name, settled.at))::bigint AS at, count(*) AS n
    FROM settled, unit GROUP BY 1
) AS buckets ORDER BY at
"""


async def _form(request: _AnyRequest) -> dict[str, Any]:
    await require_csrf(request)
    return dict(await request.form())


def _convert(raw: dict[str, Any], type_: type[Any]) -> Any:
    try:
        return msgspec.convert(raw, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(str(exc), errors=[{"key": "form", "message": str(exc)}]) from None


def _number(form: dict[str, Any], name: str) -> Any:
    value = str(form.get(name) or "").replace(".", "").replace(",", "").replace(" ", "")
    return int(value) if value.isdigit() else value or None


def _progress(states: list[dict[str, Any]]) -> dict[str, Any]:
    total = sum(s["count"] for s in states if s["state"] != "cancelled")
    done = sum(s["count"] for s in states if s["state"] in _SETTLED and s["state"] != "cancelled")
    return {
        "total": total,
        "done": done,
        "percent": 100 if total and done == total else (done * 100 // total if total else 0),
        "by_state": {s["state"]: {"count": s["count"], "amount": s["amount"]} for s in states},
        "at": int(time.time()),
    }


@get("/", guards=[officer_with_role(*ROLES)], opt=PAGE, include_in_schema=False)
async def home(request: _AnyRequest, principal: Caller, db: Db) -> Template:
    rows = await db.fetch("SELECT * FROM programmes WHERE org_id = $1 ORDER BY created_at", principal.org_id)
    listed = [await programmes.programme_summary(db, r) for r in rows]
    return page(request, "welfare.html", programmes=listed, roles=principal.roles)


@post("/programmes", guards=[_maker], opt=PAGE, include_in_schema=False)
async def create_programme(request: _AnyRequest, principal: Caller, db: Db) -> Response[Any]:
    form = await _form(request)
    body = _convert(
        {
            "name": str(form.get("name") or "").strip(),
            "legal_basis": str(form.get("legal_basis") or "").strip(),
            "budget": _number(form, "budget"),
            "schedule": form.get("schedule"),
            "fixed_amount": _number(form, "fixed_amount"),
            "provinces": [p.strip() for p in str(form.get("provinces") or "").split(",") if p.strip()],
        },
        ProgrammeIn,
    )
    async with db.acquire() as conn, conn.transaction():
        row = await programmes.create_programme(conn, principal, body)
    return Redirect(f"/welfare/programmes/{row['id']}", status_code=HTTP_303_SEE_OTHER)


@get("/programmes/{programme_id:uuid}", guards=[_officer], opt=PAGE, include_in_schema=False)
async def programme(request: _AnyRequest, programme_id: FromPath[UUID], principal: Caller, db: Db) -> Template:
    row = await programmes.programme_for(db, programme_id, principal)
    enrolments = await db.fetch(
        "SELECT * FROM enrolments WHERE programme_id = $1 ORDER BY created_at DESC LIMIT 20", programme_id
    )
    listed = await db.fetch(
        "SELECT * FROM batches WHERE programme_id = $1 ORDER BY created_at DESC LIMIT 50", programme_id
    )
    return page(
        request,
        "welfare_programme.html",
        programme=await programmes.programme_summary(db, row),
        report=await reports.programme_progress(db, programme_id),
        enrolments=enrolments,
        batches=listed,
        roles=principal.roles,
    )


@post(
    "/programmes/{programme_id:uuid}/enrolments",
    guards=[_maker],
    include_in_schema=False,
    status_code=HTTP_201_CREATED,
    request_max_body_size=200 * 1024 * 1024,
)
async def upload_enrolment(
    request: _AnyRequest, programme_id: FromPath[UUID], principal: Caller, db: Db
) -> EnrolmentOut:
    """The page's script sends the chosen file as the body (so it can show upload progress)."""
    await require_csrf(request)
    row = await programmes.programme_for(db, programme_id, principal)
    async with db.acquire() as conn:
        return await programmes.enrol_upload(conn, principal, row, request.stream())


@get(
    "/programmes/{programme_id:uuid}/enrolments/{enrolment_id:uuid}",
    guards=[_officer],
    opt=PAGE,
    include_in_schema=False,
)
async def enrolment(
    request: _AnyRequest, programme_id: FromPath[UUID], enrolment_id: FromPath[UUID], principal: Caller, db: Db
) -> Template:
    row = await programmes.programme_for(db, programme_id, principal)
    found = await db.fetchrow(
        "SELECT * FROM enrolments WHERE id = $1 AND programme_id = $2", enrolment_id, programme_id
    )
    if found is None:
        raise NotFound("No such enrolment.")
    async with db.acquire() as conn, conn.transaction(readonly=True):
        lines = [r async for r in conn.cursor(reports.REPORT_SQL + f" LIMIT {_REPORT_ROWS_SHOWN}", enrolment_id)]
    return page(
        request, "welfare_enrolment.html", programme=row, enrolment=found, lines=lines, shown=_REPORT_ROWS_SHOWN
    )


@get(
    "/programmes/{programme_id:uuid}/enrolments/{enrolment_id:uuid}/report.csv",
    guards=[_officer],
    include_in_schema=False,
)
async def enrolment_csv(
    request: _AnyRequest, programme_id: FromPath[UUID], enrolment_id: FromPath[UUID], principal: Caller, db: Db
) -> Stream:
    await programmes.programme_for(db, programme_id, principal)
    if not await db.fetchval(
        "SELECT true FROM enrolments WHERE id = $1 AND programme_id = $2", enrolment_id, programme_id
    ):
        raise NotFound("No such enrolment.")
    return reports.enrolment_download(db, enrolment_id)


@post("/programmes/{programme_id:uuid}/batches", guards=[_maker], opt=PAGE, include_in_schema=False)
async def create_batch(request: _AnyRequest, programme_id: FromPath[UUID], principal: Caller, db: Db) -> Response[Any]:
    form = await _form(request)
    body = _convert(
        {
            "cycle": str(form.get("cycle") or "").strip(),
            "control_count": _number(form, "control_count"),
            "control_sum": _number(form, "control_sum"),
        },
        BatchIn,
    )
    row = await programmes.programme_for(db, programme_id, principal)
    async with db.acquire() as conn:
        batch_id = await batches.create_batch(conn, principal, row, body)
    return Redirect(f"/welfare/batches/{batch_id}", status_code=HTTP_303_SEE_OTHER)


@get("/batches/{batch_id:uuid}", guards=[_officer], opt=PAGE, include_in_schema=False)
async def batch(request: _AnyRequest, batch_id: FromPath[UUID], principal: Caller, db: Db) -> Template:
    row = await batches.batch_for(db, batch_id, principal)
    async with db.acquire() as conn, conn.transaction(readonly=True):
        failures = [r async for r in conn.cursor(reports.FAILURES_SQL + " LIMIT 500", batch_id)]
        not_reached = [r async for r in conn.cursor(reports.NOT_REACHED_SQL + " LIMIT 500", batch_id)]
    progress = _progress(await batches.progress(db, batch_id))
    settled = await db.fetch(_SETTLED_OVER_TIME, batch_id, sorted(_SETTLED - {"cancelled"}))
    return page(
        request,
        "welfare_batch.html",
        batch=row,
        progress=progress,
        settled_over_time=json.dumps([[r["at"], r["done"]] for r in settled]),
        failures=failures,
        not_reached=not_reached,
        # The maker of a batch is never offered the approval (the server refuses it anyway).
        may_approve="welfare_checker" in principal.roles and row["state"] == "draft" and row["maker"] != principal.key,
        may_release="welfare_checker" in principal.roles and row["state"] == "approved",
        may_cancel=row["state"] in ("draft", "approved"),
        is_maker=row["maker"] == principal.key,
    )


@post("/batches/{batch_id:uuid}/approve", guards=[_checker], opt=PAGE, include_in_schema=False)
async def approve(request: _AnyRequest, batch_id: FromPath[UUID], principal: Caller, db: Db) -> Response[Any]:
    form = await _form(request)
    body = _convert(
        {"control_count": _number(form, "control_count"), "control_sum": _number(form, "control_sum")}, BatchApproval
    )
    async with db.acquire() as conn:
        await batches.approve_batch(conn, principal, batch_id, body)
    return Redirect(f"/welfare/batches/{batch_id}", status_code=HTTP_303_SEE_OTHER)


@post("/batches/{batch_id:uuid}/release", guards=[_checker], opt=PAGE, include_in_schema=False)
async def release(request: _AnyRequest, batch_id: FromPath[UUID], principal: Caller, db: Db) -> Response[Any]:
    await _form(request)
    async with db.acquire() as conn:
        await batches.release_batch(conn, principal, batch_id)
    return Redirect(f"/welfare/batches/{batch_id}", status_code=HTTP_303_SEE_OTHER)


@post("/batches/{batch_id:uuid}/cancel", guards=[_officer], opt=PAGE, include_in_schema=False)
async def cancel(request: _AnyRequest, batch_id: FromPath[UUID], principal: Caller, db: Db) -> Response[Any]:
    await _form(request)
    async with db.acquire() as conn:
        await batches.cancel_batch(conn, principal, batch_id)
    return Redirect(f"/welfare/batches/{batch_id}", status_code=HTTP_303_SEE_OTHER)


@get("/batches/{batch_id:uuid}/events", guards=[_officer], include_in_schema=False)
async def batch_events(request: _AnyRequest, batch_id: FromPath[UUID], principal: Caller, db: Db) -> ServerSentEvent:
    """Live progress: the counts by state every second, until every payment is settled."""
    await batches.batch_for(db, batch_id, principal)
    ends = time.monotonic() + SESSION_SECONDS

    async def events() -> AsyncIterator[str]:
        while time.monotonic() < ends:
            state = _progress(await batches.progress(db, batch_id))
            yield json.dumps(state)
            if state["total"] and state["percent"] == 100:
                return
            await asyncio.sleep(1)

    return ServerSentEvent(events(), event_type="progress")


@get("/batches/{batch_id:uuid}/failures.csv", guards=[_officer], include_in_schema=False)
async def failures_csv(request: _AnyRequest, batch_id: FromPath[UUID], principal: Caller, db: Db) -> Stream:
    await batches.batch_for(db, batch_id, principal)
    return reports.failures_download(db, batch_id)


@get("/batches/{batch_id:uuid}/not-reached.csv", guards=[_officer], include_in_schema=False)
async def not_reached_csv(request: _AnyRequest, batch_id: FromPath[UUID], principal: Caller, db: Db) -> Stream:
    await batches.batch_for(db, batch_id, principal)
    return reports.not_reached_download(db, batch_id)


@get("/reconciliations", guards=[_operator], opt=PAGE, include_in_schema=False)
async def reconciliation_form(request: _AnyRequest) -> Template:
    return page(request, "welfare_reconciliation.html", result=None, today=date.today().isoformat())


@post(
    "/reconciliations", guards=[_operator], opt=PAGE, include_in_schema=False, request_max_body_size=200 * 1024 * 1024
)
async def reconcile(request: _AnyRequest, principal: Caller, db: Db) -> Template:
    form = await _form(request)
    upload = form.get("file")
    provider = str(form.get("provider") or "").strip()
    try:
        day = date.fromisoformat(str(form.get("day") or ""))
    except ValueError:
        raise ValidationFailed(
            "Give the statement's day as YYYY-MM-DD.", errors=[{"key": "day", "message": "invalid"}]
        ) from None
    if not isinstance(upload, UploadFile) or not provider:
        raise ValidationFailed(
            "Choose the provider and the statement file.", errors=[{"key": "file", "message": "required"}]
        )

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await upload.read(65536):
            yield chunk

    async with db.acquire() as conn:
        result = await reconciliation.reconcile_csv(conn, provider, day, chunks(), principal.key)
    return page(request, "welfare_reconciliation.html", result=result, today=day.isoformat())


@get("/programmes/{programme_id:uuid}/reconciliation.csv", guards=[_officer], include_in_schema=False)
async def programme_reconciliation(
    request: _AnyRequest, programme_id: FromPath[UUID], principal: Caller, db: Db
) -> Stream:
    await programmes.programme_for(db, programme_id, principal)
    return reports.reconciliation_download(db, "l.programme_id", programme_id)


ROUTES = [
    home,
    create_programme,
    programme,
    upload_enrolment,
    enrolment,
    enrolment_csv,
    create_batch,
    batch,
    approve,
    release,
    cancel,
    batch_events,
    failures_csv,
    not_reached_csv,
    reconciliation_form,
    reconcile,
    programme_reconciliation,
]
