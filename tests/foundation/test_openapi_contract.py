"""The OpenAPI document says who may call each operation and every problem it answers.

Checked against the running routes, not against the code that wrote the document: an
independent validator (openapi-spec-validator) reads the document; each route's guards
decide its security; and every problem actually answered by every route — to an anonymous
caller, to a citizen, to an organisation's client without scopes — must be listed under its
status for that operation.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.response import ServerSentEvent
from openapi_spec_validator import validate

from wallet_api.auth.principal import Principal


def _operations(app: Litestar) -> list[tuple[str, str, str, HTTPRouteHandler]]:
    found: list[tuple[str, str, str, HTTPRouteHandler]] = []
    for route in app.routes:
        if route.path.startswith(("/schema", "/_probe")):
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.resolve_include_in_schema():
                continue
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                found.append((route.path, route.path_format, method, handler))
    return found


def _concrete(path: str) -> str:
    def fill(m: re.Match[str]) -> str:
        return {"uuid": str(uuid.uuid4()), "int": "1"}.get(m.group(2) or "str", "x")

    return re.sub(r"\{(\w+)(?::(\w+))?\}", fill, path)


async def test_the_document_is_valid_openapi(client: httpx.AsyncClient) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    validate(r.json())


async def test_every_guarded_operation_declares_the_bearer_scheme_and_who_may_call(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operations = _operations(app)
    assert len(operations) > 80
    for _, path_format, method, handler in operations:
        operation = document["paths"][path_format][method.lower()]
        guards = handler.resolve_guards()
        if guards:
            assert operation.get("security") == [{"bearer": []}], (method, path_format)
            for guard in guards:
                assert guard.__doc__, f"guard {guard.__name__} does not say whom it admits"
                assert guard.__doc__.strip().split("\n")[0] in operation["description"], (method, path_format)
        else:
            assert "security" not in operation, (method, path_format)
            assert "anyone" in operation["description"], (method, path_format)
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert set(response["content"]) == {"application/problem+json"}, (method, path_format, status)


async def test_every_problem_a_route_answers_is_in_its_operation(
    app: Litestar, client: httpx.AsyncClient, mint: Any
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    callers = {
        "anonymous": {},
        "bad token": {"Authorization": "Bearer not-a-token"},
        "citizen": await mint(
            Principal(kind="citizen", subject=str(uuid.uuid4()), level=1, device_id=str(uuid.uuid4()), auth_time=1)
        ),
        "client": await mint(Principal(kind="client", subject="client-x", org_id="org-x")),
        "officer": await mint(Principal(kind="officer", subject=str(uuid.uuid4()), org_id="org-x")),
    }
    missing = []
    for path, path_format, method, handler in _operations(app):
        if handler.parsed_fn_signature.return_type.annotation is ServerSentEvent:
            continue  # a stream that stays open for a caller it admits
        operation = document["paths"][path_format][method.lower()]
        for name, headers in callers.items():
            body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
            r = await client.request(method, _concrete(path), headers=headers, json=body)
            if not r.headers.get("content-type", "").startswith("application/problem+json") or not r.content:
                continue  # not a problem, or one to a HEAD request (no body)
            slug = r.json()["type"].rsplit("/", 1)[-1]
            listed = operation["responses"].get(str(r.status_code), {}).get("description", "")
            if f"`{slug}`" not in listed:
                missing.append(f"{method} {path_format} as {name}: {r.status_code} {slug}")
    assert not missing, "\n".join(missing)
