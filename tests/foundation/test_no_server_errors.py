"""Bad input never produces a 500: every route, every kind of caller, junk in every place.

Walks the OpenAPI document of the real app (so new routes are covered automatically) and
sends each operation missing, malformed and ill-typed input with a token of each
principal kind. Any 5xx fails, naming the route.

Besides plain junk, the classes an outside review found 500s with (issue 14): NUL in text
(path, query, every string of a body built from the operation's own schema), JSON nested
far too deep, integers beyond 64 bits (every integer parameter and body field), and
hostile headers (non-ASCII values, a bearer token whose ``kid`` holds a NUL, a signature
header with a huge timestamp).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.tokens import Mint

ALL_ROLES = frozenset(
    {"police_officer", "welfare_maker", "welfare_checker", "issuer_operator", "verifier_agent", "admin"}
)
ALL_SCOPES = frozenset({"documents:issue", "documents:verify", "payments:manage"})
JUNK_SEGMENTS = [
    "x",
    "0",
    "-1",
    str(uuid.uuid4()),
    "00000000-0000-0000-0000-000000000000",
    "%2e%2e",
    "a" * 300,
    "001099012345",
]
JUNK_BODIES: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"string"',
    b"{}",
    b'{"amount": "ten", "id": [], "name": {}}',
    b'{"amount": 1e400}',
    b'{"amount": -9223372036854775809}',
    '{"name": "Nguy\u1ec5n \\u0000"}'.encode(),
    b"\xff\xfe\x00garbage",
    b"[" * 955 + b"]" * 955,
    b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}",
]
NUL_TEXT = "x\u0000y"
HUGE = 2**64 + 1
#: Values tried, in order, for a string field with a pattern, so that a NUL elsewhere reaches deeper.
PATTERNED = ["001090012345", "001", "2026-11", "once", "GPLX-1", "0912345678", "123456", "x"]


def _streams(operation: dict[str, Any]) -> bool:
    """Server-sent event streams never end, so an in-process client cannot read them whole."""
    for response in operation.get("responses", {}).values():
        if "text/event-stream" in response.get("content", {}):
            return True
    return "stream" in operation.get("tags", []) or "events" in operation.get("operationId", "").lower()


def operations(doc: dict[str, Any]) -> list[tuple[str, str]]:
    ops = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete") and not _streams(operation):
                ops.append((method.upper(), path))
    return ops


def fill(path: str, segment: str) -> str:
    return re.sub(r"\{[^}]+\}", segment, path)


@pytest.fixture
async def callers(mint: Mint) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "citizen": await mint(kind="citizen", subject=str(uuid.uuid4()), level=2, device_id=str(uuid.uuid4())),
        "officer": await mint(kind="officer", subject=str(uuid.uuid4()), org_id="org-none", roles=ALL_ROLES),
        "client": await mint(kind="client", subject="client-none", org_id="org-none", scopes=ALL_SCOPES),
    }


async def test_every_route_survives_junk(client: httpx.AsyncClient, callers: dict[str, dict[str, str]]) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    assert len(operations(doc)) >= 5
    failures = []
    for method, path in operations(doc):
        if "/_probe/" in path:
            continue
        for who, headers in callers.items():
            for segment in JUNK_SEGMENTS[:4] if "{" in path else [""]:
                url = fill(path, segment)
                bodies = JUNK_BODIES if method in ("POST", "PUT", "PATCH") else [b""]
                for body in bodies:
                    try:
                        r = await asyncio.wait_for(
                            client.request(
                                method,
                                url,
                                content=body,
                                headers={**headers, "content-type": "application/json"},
                                params={"limit": "many", "cursor": "%%%", "page": "-3"},
                            ),
                            timeout=20,
                        )
                    except (httpx.HTTPError, TimeoutError) as exc:
                        failures.append(f"{method} {url} as {who}: {type(exc).__name__}")
                        continue
                    if r.status_code >= 500:
                        failures.append(f"{method} {url} as {who} body={body[:30]!r}: {r.status_code}")
    assert failures == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=10), c, max_size=4),
        max_leaves=8,
    )
)
async def test_arbitrary_json_to_every_post_route_is_never_a_500(
    client: httpx.AsyncClient, callers: dict[str, dict[str, str]], body: Any
) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    for method, path in operations(doc):
        if method != "POST" or "/_probe/" in path:
            continue
        url = fill(path, str(uuid.uuid4()))
        for headers in callers.values():
            r = await client.post(url, json=body, headers=headers, timeout=30)
            assert r.status_code < 500, f"POST {url}: {r.status_code} {r.text[:200]}"


async def test_without_redis_no_route_answers_500(
    client: httpx.AsyncClient, callers: dict[str, dict[str, str]], servers: Any
) -> None:
    """Redis may be lost: every route then works without it or answers 503, never a 500."""
    if servers.redis is None:
        pytest.skip("needs the embedded Redis to stop it")
    doc = (await client.get("/schema/openapi.json")).json()
    failures = []
    servers.redis.stop()
    try:
        for method, path in operations(doc):
            if "/_probe/" in path:
                continue
            for who, headers in callers.items():
                try:
                    r = await asyncio.wait_for(
                        client.request(
                            method,
                            fill(path, str(uuid.uuid4())),
                            content=b"{}" if method in ("POST", "PUT", "PATCH") else b"",
                            headers={**headers, "content-type": "application/json"},
                        ),
                        timeout=20,
                    )
                except (httpx.HTTPError, TimeoutError) as exc:
                    failures.append(f"{method} {path} as {who}: {type(exc).__name__}")
                    continue
                if r.status_code >= 500 and r.status_code != 503:
                    failures.append(f"{method} {path} as {who}: {r.status_code}")
    finally:
        servers.redis.start()
    assert failures == []


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def instance(doc: dict[str, Any], schema: dict[str, Any], *, text: str, number: int, depth: int = 0) -> Any:
    """A value of ``schema`` with every free string ``text`` and every integer ``number``."""
    schema = _resolve(doc, schema)
    for key in ("oneOf", "anyOf"):
        options = [s for s in schema.get(key, []) if _resolve(doc, s).get("type") != "null"]
        if options:
            return instance(doc, options[0], text=text, number=number, depth=depth)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "integer":
        return number
    if kind == "number":
        return float(number)
    if kind == "boolean":
        return True
    if kind == "array":
        return [instance(doc, schema.get("items", {}), text=text, number=number, depth=depth + 1)] if depth < 6 else []
    if kind == "object" or "properties" in schema:
        out = {
            name: instance(doc, sub, text=text, number=number, depth=depth + 1)
            for name, sub in schema.get("properties", {}).items()
        }
        if not out and depth < 6:
            out = {"name": text, "count": number}
        return out
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "uuid":
            return str(uuid.uuid4())
        if fmt == "date":
            return "2026-11-02"
        if fmt == "date-time":
            return "2026-11-02T10:00:00Z"
        if "pattern" in schema:
            return next((c for c in PATTERNED if re.fullmatch(schema["pattern"], c)), "x")
        return text
    return text


def hostile_requests(doc: dict[str, Any], method: str, path: str) -> list[tuple[str, dict[str, Any], bytes | None]]:
    """(url, query, body) triples: NUL and beyond-64-bit integers in every parameter and body field."""
    operation = doc["paths"][path][method.lower()]
    params = [p for p in operation.get("parameters", []) if p.get("in") in ("path", "query")]
    out: list[tuple[str, dict[str, Any], bytes | None]] = []
    for text, number in ((NUL_TEXT, 1), ("x", HUGE), ("x", -HUGE)):
        url = path
        query: dict[str, Any] = {}
        for p in params:
            value = instance(doc, p.get("schema", {}), text=text, number=number)
            value = str(value).lower() if isinstance(value, bool) else str(value)
            if p["in"] == "path":
                url = re.sub(r"\{" + re.escape(p["name"]) + r"(:[^}]+)?\}", value.replace("\x00", "%00"), url)
            else:
                query[p["name"]] = value
        url = re.sub(r"\{[^}]+\}", "x%00y" if text == NUL_TEXT else str(number), url)
        body = None
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            value = instance(doc, content["application/json"].get("schema", {}), text=text, number=number)
            body = json.dumps(value).encode()
        out.append((url, query, body))
    return out


def kid_token(kid: str) -> str:
    def segment(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{segment({'alg': 'ES256', 'kid': kid, 'typ': 'at+jwt'})}.{segment({'sub': 'x'})}.AAAA"


HOSTILE_HEADERS: list[dict[str, Any]] = [
    {"Authorization": "Bearer " + kid_token("k" + NUL_TEXT)},
    {"Authorization": b"Bearer " + "é".encode("latin-1") * 40},
    {"Idempotency-Key": "clé-".encode("latin-1") + b"\xff" * 8},
    {"Wallet-Signature": f"t={10**400},v1={'0' * 64}"},
    {"Wallet-Signature": b"t=1,v1=" + "é".encode("latin-1") * 64},
    {"Last-Event-ID": str(HUGE), "Content-Digest": "sha-256=:\u00e9:".encode("latin-1")},
]


async def test_every_route_refuses_nul_and_huge_integers_in_every_field(
    client: httpx.AsyncClient, callers: dict[str, dict[str, str]]
) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    failures = []
    for method, path in operations(doc):
        if "/_probe/" in path:
            continue
        for url, query, body in hostile_requests(doc, method, path):
            for who, headers in callers.items():
                r = await client.request(
                    method,
                    url,
                    params=query,
                    content=body,
                    headers={**headers, "content-type": "application/json"} if body is not None else headers,
                    timeout=30,
                )
                if r.status_code >= 500:
                    failures.append(f"{method} {url} {query} as {who} body={(body or b'')[:80]!r}: {r.status_code}")
    assert failures == []


async def test_every_route_survives_hostile_headers(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    failures = []
    for method, path in operations(doc):
        if "/_probe/" in path:
            continue
        for headers in HOSTILE_HEADERS:
            r = await client.request(
                method,
                fill(path, str(uuid.uuid4())),
                content=b"{}" if method in ("POST", "PUT", "PATCH") else None,
                headers={**headers, "content-type": "application/json"},
                timeout=30,
            )
            if r.status_code >= 500:
                failures.append(f"{method} {path} {list(headers)}: {r.status_code}")
    assert failures == []
