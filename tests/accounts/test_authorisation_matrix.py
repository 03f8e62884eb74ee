"""Every route names who may call it, and refuses everyone else.

Walks ``app.routes`` of the real application (so routes added by any domain are covered):

* each handler declares guards or ``opt=PUBLIC``;
* for each guarded handler and each kind of caller (anonymous, citizens of level 1 and 2,
  with a stale or fresh device signature, officers of every role, clients of every scope),
  the guards are evaluated for that caller; whenever they refuse, a real request with that
  caller's token must come back 401 or 403 (never reaching the handler).

And citizen A cannot read or change citizen B's data on the identity routes.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import redis.asyncio as aioredis
from litestar import Litestar
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import HTTPRouteHandler

from tests.accounts.conftest import Person, register, sign_in, step_up
from tests.support.tokens import Mint
from wallet_api.accounts.orgs import CLIENT_SCOPES, ROLES
from wallet_api.auth.principal import Principal
from wallet_api.problems import Problem

_NOW = int(time.time())


def _callers() -> dict[str, Principal | None]:
    account, device = str(uuid.uuid4()), str(uuid.uuid4())
    callers: dict[str, Principal | None] = {
        "anonymous": None,
        "citizen-l1-stale": Principal(kind="citizen", subject=account, level=1, device_id=device, auth_time=1),
        "citizen-l1-fresh": Principal(kind="citizen", subject=account, level=1, device_id=device, auth_time=_NOW),
        "citizen-l2-stale": Principal(kind="citizen", subject=account, level=2, device_id=device, auth_time=1),
        "citizen-l2-fresh": Principal(kind="citizen", subject=account, level=2, device_id=device, auth_time=_NOW),
        "officer-no-role": Principal(kind="officer", subject=str(uuid.uuid4()), org_id="org-x"),
        "client-no-scope": Principal(kind="client", subject="client-x", org_id="org-x"),
    }
    for role in ROLES:
        callers[f"officer-{role}"] = Principal(
            kind="officer", subject=str(uuid.uuid4()), org_id="org-x", roles=frozenset({role})
        )
    for scope in CLIENT_SCOPES:
        callers[f"client-{scope}"] = Principal(
            kind="client", subject="client-x", org_id="org-x", scopes=frozenset({scope})
        )
    return callers


def _handlers(app: Litestar) -> Iterator[tuple[str, HTTPRouteHandler]]:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            # Litestar adds an OPTIONS handler per path for CORS preflight; it runs no code of ours.
            if isinstance(handler, HTTPRouteHandler) and handler.http_methods != {"OPTIONS"}:
                yield route.path, handler


def _is_framework_route(path: str) -> bool:
    return path.startswith("/schema")


async def _allowed(handler: HTTPRouteHandler, principal: Principal | None) -> bool | None:
    """True/False if the guards accept/refuse the caller; None if a guard needs more than the caller."""
    connection: Any = SimpleNamespace(scope={"user": principal}, user=principal)
    for guard in handler.resolve_guards():
        try:
            checked = guard(connection, handler)
            if checked is not None:
                await checked
        except (Problem, NotAuthorizedException, PermissionDeniedException):
            return False
        except Exception:
            return None
    return True


def _concrete(path: str) -> str:
    def fill(m: re.Match[str]) -> str:
        kind = m.group(2) or "str"
        if kind == "uuid":
            return str(uuid.uuid4())
        if kind == "int":
            return "1"
        if kind == "date":
            return "2025-01-01"
        return "x"

    return re.sub(r"\{(\w+)(?::(\w+))?\}", fill, path)


def test_every_route_declares_guards_or_public(app: Litestar) -> None:
    missing = [
        f"{sorted(h.http_methods)} {path}"
        for path, h in _handlers(app)
        if not _is_framework_route(path) and not h.resolve_guards() and not h.opt.get("public")
    ]
    assert missing == []


def test_no_public_route_asks_for_the_caller(app: Litestar) -> None:
    # ``principal`` is the caller the route's guards admitted; a public route has none to give.
    asking = [
        path for path, h in _handlers(app) if h.opt.get("public") and "principal" in h.parsed_fn_signature.parameters
    ]
    assert asking == []


def test_public_routes_are_few_and_known(app: Litestar) -> None:
    public = {path for path, h in _handlers(app) if h.opt.get("public") and path.startswith("/v1/auth")}
    assert public == {"/v1/auth/challenges", "/v1/auth/sign-in", "/v1/auth/refresh"}


async def test_guards_refuse_every_caller_they_do_not_name(
    app: Litestar, client: httpx.AsyncClient, mint: Mint
) -> None:
    callers = _callers()
    headers: dict[str, dict[str, str]] = {}
    for name, principal in callers.items():
        headers[name] = await mint(principal) if principal is not None else {}
    checked, failures = 0, []
    for path, handler in _handlers(app):
        if _is_framework_route(path) or handler.opt.get("public"):
            continue
        for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
            for name, principal in callers.items():
                if await _allowed(handler, principal) is not False:
                    continue
                r = await client.request(
                    method,
                    _concrete(path),
                    headers={**headers[name], "Content-Type": "application/json"},
                    content=b"{}" if method in ("POST", "PUT", "PATCH") else None,
                )
                checked += 1
                if r.status_code not in (401, 403):
                    failures.append(f"{method} {path} as {name}: {r.status_code}")
    assert checked > 50
    assert failures == []


async def test_citizen_a_cannot_reach_citizen_b(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person, minh: Person
) -> None:
    a = await register(client, redis, nhung)
    b = await register(client, redis, minh)
    await step_up(client, a)
    # A sees only A.
    me = (await client.get("/v1/me", headers=a.headers)).json()
    assert me["account_id"] == a.account_id
    devices = (await client.get("/v1/devices", headers=a.headers)).json()
    assert [d["id"] for d in devices] == [a.device_id]
    # A cannot rename or revoke B's device: it does not exist for A.
    r = await client.patch(f"/v1/devices/{b.device_id}", json={"name": "mine now"}, headers=a.headers)
    assert r.status_code == 404
    r = await client.delete(f"/v1/devices/{b.device_id}", headers=a.headers)
    assert r.status_code == 404
    # A cannot step up with a challenge issued for B's device, nor sign in as B with A's key.
    c = (await client.post("/v1/auth/challenges", json={"device_id": b.device_id, "purpose": "step-up"})).json()
    r = await client.post(
        "/v1/auth/step-up", json={"challenge": c["challenge"], "signature": a.sign(c["sign"])}, headers=a.headers
    )
    assert r.status_code == 401
    # A's refresh token gives A's session only.
    r = await client.post("/v1/auth/refresh", json={"refresh_token": a.refresh_token})
    assert r.json()["account_id"] == a.account_id
    # B is untouched.
    assert (await sign_in(client, b)).status_code == 200
    assert (await client.get("/v1/me", headers=b.headers)).json()["account_id"] == b.account_id


async def test_citizen_cannot_link_someone_elses_child(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: Any, nhung: Person, minh: Person, mint: Any
) -> None:
    from datetime import date

    from tests.accounts.conftest import add_person

    await add_person(db, Person("001317002468", "Trần Ngọc Bảo Anh", date(2017, 6, 15), mother_id=nhung.person_id))
    b = await register(client, redis, minh)
    await db.execute("UPDATE accounts SET level = 2")
    headers = await mint(kind="citizen", subject=b.account_id, level=2, device_id=b.device_id, auth_time=_NOW)
    r = await client.post("/v1/me/children", json={"person_id": "001317002468"}, headers=headers)
    assert r.status_code == 404
    assert r.json()["type"].endswith("/not-your-child")
