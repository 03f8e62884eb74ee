"""Bad input never produces a 500: every route, every kind of caller, junk in every place.

Walks the OpenAPI document of the real app (so new routes are covered automatically) and
sends each operation missing, malformed and ill-typed input with a token of each
principal kind. Any 5xx fails, naming the route.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
]


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
async def callers(mint) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
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
