"""The protocol routes kept out of the OpenAPI document (the authorization page and its polls) are
fuzzed here, since the every-route test (tests/foundation/test_no_server_errors.py) walks that
document: junk in every path segment, query parameter and cookie is refused, never a 500, and
nothing is stored."""

from __future__ import annotations

import itertools
import re
import uuid

import asyncpg
import httpx
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

_PREFIXES = ("/openid4vci", "/openid4vp", "/.well-known", "/oauth", "/mdoc")
_JUNK = [
    "",
    "x",
    "a" * 5000,
    "urn:ietf:params:oauth:request_uri:" + "A" * 300,
    "x\u0000y",
    "Nguyễn",
    "%2e%2e",
    "00000000-0000-0000-0000-000000000000",
]
_COOKIES = ["", "x", "a" * 4000, "%00", "\u00ff\u00fe", str(uuid.uuid4())]


def _hidden(app: Litestar) -> list[str]:
    """Paths of GET handlers of the standards' routes that are not in the OpenAPI document."""
    found = []
    for route in app.routes:
        if not route.path.startswith(_PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", []):
            hidden = isinstance(handler, HTTPRouteHandler) and not handler.resolve_include_in_schema()
            if hidden and "GET" in handler.http_methods:
                found.append(route.path_format)
    return sorted(set(found))


def _filled(path: str, value: str) -> str:
    return re.sub(r"\{\w+\}", value, path)


async def test_hidden_protocol_routes_refuse_junk_without_a_server_error(
    app: Litestar, client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    hidden = _hidden(app)
    # The authorization page, its status and continue polls, and the app-link landing page.
    assert len(hidden) >= 4, hidden
    failures = []
    for path in hidden:
        segments = [str(uuid.uuid4()), "x", "a" * 300] if "{" in path else [""]
        for segment, value, cookie in itertools.product(segments, _JUNK, _COOKIES):
            url = _filled(path, segment)
            r = await client.get(
                url,
                params={"client_id": value, "request_uri": value, "state": value},
                headers={b"Cookie": f"oid4vci_flow={cookie}".encode("latin-1")} if cookie else {},
            )
            if r.status_code >= 500:
                failures.append((url, value[:20], cookie[:20], r.status_code))
    assert failures == []
    assert await db.fetchval("SELECT count(*) FROM vci_authorizations") == 0
