"""The verification route served directly (wallet_api/fastpath.py) answers as the Litestar route does.

A request with an ``Idempotency-Key`` always goes through Litestar, so the two paths can be
compared on the same route; requests without one, the ordinary kind, take the direct path.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from litestar import Litestar, post

from documents.presentation import store_code
from documents.schemas import VerifyRequest
from tests.documents.conftest import Citizen, issue
from tests.documents.test_presentation import offline
from wallet_api.fastpath import FastRoute, install


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


async def _both(client: httpx.AsyncClient, headers: dict[str, str], direct: str, litestar: str) -> Any:
    fast = await client.post("/v1/verifications", headers=headers, json={"payload": direct})
    slow = await client.post(
        "/v1/verifications", headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, json={"payload": litestar}
    )
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


def test_a_fast_route_needs_a_litestar_route() -> None:
    """Served only directly, a route would be missing from the OpenAPI document."""

    @post("/elsewhere", sync_to_thread=False)
    def elsewhere(data: VerifyRequest) -> None:
        return None

    async def run(state: Any, principal: Any, data: Any) -> None:
        return None

    app = Litestar(route_handlers=[elsewhere])
    with pytest.raises(RuntimeError, match="no Litestar route"):
        install(app, [FastRoute("POST", "/v1/verifications", VerifyRequest, lambda p: True, run)])
    install(app, [FastRoute("POST", "/elsewhere", VerifyRequest, lambda p: True, run)])
