"""The response endpoint served directly (openid4vp/wallet.py ``ServedDirectly``) answers as Litestar does.

A body sent without ``Content-Length`` (streamed in chunks) is handled by Litestar's own
route handler, so the two ways can be compared on the same route, request by request:
each case below is posted both ways, to two requests made alike, and must get the same
status, body and headers, and leave the same outcome for the verifier.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.documents.conftest import Citizen
from tests.openid4vp.conftest import Request, dcql, open_request, presentation, response_form


def _through_litestar(body: bytes) -> dict[str, Any]:
    """``client.post`` arguments that send ``body`` without Content-Length (Litestar reads it)."""

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    return {"content": chunks(), "headers": {"content-type": "application/x-www-form-urlencoded"}}


def _same_headers(fast: httpx.Response, slow: httpx.Response) -> None:
    assert fast.headers["content-type"] == slow.headers["content-type"] == "application/json"
    assert fast.headers["cache-control"] == slow.headers["cache-control"] == "no-store"
    varying = {"x-request-id", "date", "transfer-encoding"}
    assert {k for k in fast.headers if k not in varying} == {k for k in slow.headers if k not in varying}


async def _outcome(
    client: httpx.AsyncClient, request: Request, bank: dict[str, str], answer: httpx.Response
) -> dict[str, Any]:
    """What the verifier reads (same-device: with the code the wallet's redirect carried), ids left out."""
    redirect = answer.json().get("redirect_uri", "") if answer.status_code == 200 else ""
    code = {"response_code": redirect.split("response_code=")[1]} if redirect else {}
    path = f"/v1/presentation-requests/{request.created['transaction_id']}"
    r = await client.get(path, headers=bank, params=code)
    assert r.status_code == 200, r.text
    outcome = dict(r.json())
    outcome.pop("transaction_id")
    outcome.pop("response_code", None)
    for credential in (outcome.get("credentials") or {}).values():
        credential.pop("checked_at", None)
    return outcome


async def _posted(
    client: httpx.AsyncClient, bank: dict[str, str], body: Any, mode: str, asked: dict[str, str]
) -> list[tuple[httpx.Response, dict[str, Any]]]:
    """Two requests made alike; ``body(request)`` posted to one directly, to the other through Litestar."""
    answers = []
    for how in ("direct", "litestar"):
        request = await open_request(client, bank, dcql_query=dcql("date_of_birth"), response_mode=mode, **asked)
        raw = body(request)
        uri = request.payload["response_uri"]
        if how == "direct":
            r = await client.post(uri, content=raw, headers={"content-type": "application/x-www-form-urlencoded"})
            assert "content-length" in r.request.headers
        else:
            r = await client.post(uri, **_through_litestar(raw))
            assert "content-length" not in r.request.headers
        answers.append((r, await _outcome(client, request, bank, r)))
    return answers


async def _both_ways(
    client: httpx.AsyncClient, bank: dict[str, str], body: Any, *, mode: str = "direct_post"
) -> httpx.Response:
    """The direct answer, once checked equal to Litestar's (status, body, headers, outcome)."""
    (fast, fast_outcome), (slow, slow_outcome) = await _posted(client, bank, body, mode, {})
    assert (fast.status_code, fast.json()) == (slow.status_code, slow.json()), (fast.text, slow.text)
    _same_headers(fast, slow)
    assert fast_outcome == slow_outcome
    return fast


async def test_valid_refused_malformed_and_unknown_responses_answer_alike_both_ways(
    client: httpx.AsyncClient, held: str, holder: Citizen, bank: dict[str, str]
) -> None:
    def shown(request: Request, **flaw: Any) -> str:
        p = request.payload
        return presentation(held, holder, ["date_of_birth"], nonce=p["nonce"], aud=p["client_id"], **flaw)

    def form(request: Request, **flaw: Any) -> bytes:
        return urlencode(response_form(request, {"licence": [shown(request, **flaw)]})).encode()

    fast = await _both_ways(client, bank, form)
    assert (fast.status_code, fast.json()) == (200, {})
    fast = await _both_ways(client, bank, lambda r: form(r, iat=1))  # a stale key binding: refused
    assert fast.status_code == 400 and fast.json()["error"] == "invalid_request"
    fast = await _both_ways(client, bank, lambda r: b"\xff\xfe")  # not a form
    assert fast.status_code == 400
    fast = await _both_ways(client, bank, lambda r: form(r).replace(b"state=", b"state=x"))  # another state
    assert fast.status_code == 400
    fast = await _both_ways(client, bank, lambda r: urlencode({"state": r.payload["state"]}).encode())
    assert fast.status_code == 400
    declined = {"error": "access_denied", "error_description": "no"}
    fast = await _both_ways(client, bank, lambda r: urlencode({**declined, "state": r.payload["state"]}).encode())
    assert (fast.status_code, fast.json()) == (200, {})
    # Same-device: the redirect's response_code differs, the rest of the answer does not.
    (fast, _), (slow, _) = await _posted(
        client, bank, form, "direct_post", {"redirect_uri": "https://bank.example/kyc"}
    )
    assert fast.status_code == slow.status_code == 200
    _same_headers(fast, slow)
    codes = [r.json()["redirect_uri"].split("response_code=") for r in (fast, slow)]
    assert codes[0][0] == codes[1][0] == "https://bank.example/kyc?" and codes[0][1] != codes[1][1]


async def test_an_encrypted_response_answers_alike_both_ways(
    client: httpx.AsyncClient, held: str, holder: Citizen, bank: dict[str, str]
) -> None:
    def form(request: Request) -> bytes:
        p = request.payload
        shown = presentation(held, holder, ["date_of_birth"], nonce=p["nonce"], aud=p["client_id"])
        return urlencode(response_form(request, {"licence": [shown]})).encode()

    fast = await _both_ways(client, bank, form, mode="direct_post.jwt")
    assert (fast.status_code, fast.json()) == (200, {})
