"""The verification route served directly (wallet_api/direct_json.py) answers as Litestar does.

A request whose body comes without ``Content-Length`` (streamed in chunks) is parsed by
Litestar itself, so the two ways can be compared on the same route; here it also carries an
``Idempotency-Key``, so that the idempotency layer is on that side too. Ordinary requests
(a ``Content-Length``, a body that decodes) are served directly.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from litestar import Litestar, post
from litestar.exceptions import ImproperlyConfiguredException
from litestar.routes import HTTPRoute

from documents.presentation import store_code
from documents.schemas import VerifyRequest
from tests.documents.conftest import Citizen, issue
from tests.documents.test_presentation import offline
from wallet_api.direct_json import DIRECT_JSON, DirectJson


async def _code(redis: aioredis.Redis, doc_id: str, holder: Citizen) -> str:
    return await store_code(
        redis,
        document_id=uuid.UUID(doc_id),
        fields=["classes"],
        account_id=holder.account_id,
        device_id=holder.device_id,
        verifier_org_id=None,
        ttl=180,
    )


def through_litestar(body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """``client.post`` arguments that send ``body`` (JSON) without Content-Length, with an Idempotency-Key."""

    async def chunks() -> AsyncIterator[bytes]:
        yield json.dumps(body).encode()

    extra = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    return {"content": chunks(), "headers": {**(headers or {}), **extra}}


async def _both(client: httpx.AsyncClient, headers: dict[str, str], direct: str, litestar: str) -> Any:
    fast = await client.post("/v1/verifications", headers=headers, json={"payload": direct})
    slow = await client.post("/v1/verifications", **through_litestar({"payload": litestar}, headers))
    return fast, slow


def _same_headers(fast: httpx.Response, slow: httpx.Response) -> None:
    assert fast.headers["content-type"] == slow.headers["content-type"]
    assert fast.headers["x-request-id"] and fast.headers["x-request-id"] != slow.headers["x-request-id"]
    # Idempotent-Replayed is the idempotency middleware's, on the request that sent a key.
    varying = {"x-request-id", "content-length", "date", "idempotent-replayed"}
    assert {k for k in fast.headers if k not in varying} == {k for k in slow.headers if k not in varying}


async def test_a_valid_verification_answers_the_same_on_both_paths(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, redis: aioredis.Redis
) -> None:
    doc = await issue(client, issuer)
    fast, slow = await _both(
        client, verifier, await _code(redis, doc["id"], holder), await _code(redis, doc["id"], holder)
    )
    assert fast.status_code == slow.status_code == 200, (fast.text, slow.text)
    _same_headers(fast, slow)
    a, b = fast.json(), slow.json()
    assert a.pop("checked_at") and b.pop("checked_at")
    assert a == b
    payload = (await offline(client, holder, doc["id"], ["full_name", "classes"]))["payload"]
    fast, slow = await _both(client, verifier, payload, payload)
    assert fast.status_code == slow.status_code == 200
    a, b = fast.json(), slow.json()
    assert a.pop("checked_at") and b.pop("checked_at")
    assert a == b and a["kind"] == "offline"


@pytest.mark.parametrize("payload", ["not a code", "VN2:garbage"])
async def test_a_refusal_is_the_same_problem_on_both_paths(
    client: httpx.AsyncClient, verifier: Any, payload: str
) -> None:
    fast, slow = await _both(client, verifier, payload, payload)
    assert fast.status_code == slow.status_code and fast.status_code in (400, 422)
    _same_headers(fast, slow)
    a, b = fast.json(), slow.json()
    assert a.pop("request_id") == fast.headers["x-request-id"] and b.pop("request_id")
    assert a == b and a["instance"] == "/v1/verifications"


async def test_a_code_used_once_is_refused_on_either_path(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, redis: aioredis.Redis
) -> None:
    doc = await issue(client, issuer)
    code = await _code(redis, doc["id"], holder)
    fast, slow = await _both(client, verifier, code, code)
    assert (fast.status_code, slow.status_code) == (200, 409)
    again = await client.post("/v1/verifications", headers=verifier, json={"payload": code})
    assert again.status_code == 409 and again.json()["type"].endswith("/code-replayed")


async def test_callers_the_fast_path_does_not_serve_get_litestars_answers(
    client: httpx.AsyncClient, issuer: Any, verifier: Any
) -> None:
    """A bad token, a caller who may not verify, a body that does not decode: each as the route answers them."""
    bad_token = await client.post("/v1/verifications", headers={"Authorization": "Bearer x.y.z"}, json={"payload": "a"})
    assert bad_token.status_code == 401 and bad_token.json()["type"].endswith("/unauthorized")
    not_verifier = await client.post("/v1/verifications", headers=issuer, json={"payload": "a" * 32})
    assert not_verifier.status_code == 403 and not_verifier.json()["type"].endswith("/not-a-verifier")
    for body in (b"", b"{", b'{"payload": 1}', b'{"payload": "a", "extra": 1}', b'{"payload": ""}'):
        r = await client.post(
            "/v1/verifications", headers={**verifier, "content-type": "application/json"}, content=body
        )
        assert r.status_code in (400, 422) and r.headers["content-type"].startswith("application/problem+json"), body
        assert r.json()["request_id"] == r.headers["x-request-id"]


async def test_verifications_are_counted_under_their_route(
    client: httpx.AsyncClient, verifier: Any, metrics_url: str
) -> None:
    await client.post("/v1/verifications", headers=verifier, json={"payload": "not a code"})
    async with httpx.AsyncClient() as scraper:
        body = (await scraper.get(metrics_url)).text
    assert 'wallet_http_requests_total{method="POST",route="/v1/verifications",status="400"}' in body


async def test_a_direct_route_must_take_request_and_data() -> None:
    """The handler is called with exactly those two arguments, whichever way the request goes."""

    @post("/elsewhere", middleware=[DIRECT_JSON], opt={"public": True})
    async def elsewhere(data: VerifyRequest) -> None:
        return None

    route = Litestar(route_handlers=[elsewhere]).routes[0]
    assert isinstance(route, HTTPRoute)
    scope = {"type": "http", "route_handler": route.route_handlers[0], "headers": []}
    with pytest.raises(ImproperlyConfiguredException, match=r"taking \(request, data\)"):
        await DirectJson(_nothing)(scope, _nothing, _nothing)


async def _nothing(*_: Any) -> Any:
    return None
