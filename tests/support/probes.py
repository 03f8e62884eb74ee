"""Routes mounted only in tests, to exercise cross-cutting behaviour (errors, idempotency)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException

from wallet_api.auth.guards import PUBLIC, citizen, citizen_level, principal_of
from wallet_api.problems import Conflict, TooManyRequests
from wallet_api.state import Db


class Thing(msgspec.Struct):
    name: str
    amount: int


@post("/_probe/things", opt=PUBLIC, status_code=201)
async def create_thing(data: Thing, db: Db) -> dict[str, Any]:
    """Creates a row each time it runs: lets tests count executions behind an idempotency key."""
    await asyncio.sleep(0.05)  # long enough for concurrent duplicates to overlap
    thing_id = str(uuid.uuid4())
    await db.execute(
        "INSERT INTO probe_things (id, name, amount) VALUES ($1, $2, $3)", thing_id, data.name, data.amount
    )
    return {"id": thing_id, "name": data.name, "amount": data.amount}


@post("/_probe/fail", opt=PUBLIC)
async def fail_thing() -> None:
    raise RuntimeError("secret personal data 001099012345 must not leak")


@get("/_probe/crash", opt=PUBLIC, sync_to_thread=False)
def crash(request: Request[Any, Any, Any]) -> None:
    # The message carries whatever the client sent, as careless code might.
    raise RuntimeError(f"failed for {request.headers.get('x-probe-data', '')}")


@get("/_probe/conflict", opt=PUBLIC, sync_to_thread=False)
def conflict() -> None:
    raise Conflict("already done", slug="probe-conflict")


@get("/_probe/limited", opt=PUBLIC, sync_to_thread=False)
def limited() -> None:
    raise TooManyRequests("slow down", retry_after=7)


@get("/_probe/framework-401", opt=PUBLIC, sync_to_thread=False)
def framework_401() -> None:
    raise NotAuthorizedException()


@get("/_probe/framework-429", opt=PUBLIC, sync_to_thread=False)
def framework_429() -> None:
    raise TooManyRequestsException()


@get("/_probe/me", guards=[citizen], sync_to_thread=False)
def me(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = principal_of(request)
    return {"subject": p.subject, "level": p.level}


@get("/_probe/level2", guards=[citizen_level(2)], sync_to_thread=False)
def level2() -> dict[str, bool]:
    return {"ok": True}


@get("/_probe/items/{item_id:int}", opt=PUBLIC, sync_to_thread=False)
def item(item_id: int, limit: int = 10) -> dict[str, int]:
    return {"item_id": item_id, "limit": limit}


PROBES = [create_thing, fail_thing, crash, conflict, limited, framework_401, framework_429, me, level2, item]
