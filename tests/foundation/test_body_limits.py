"""Request bodies are small by default; only the routes that take a file accept large ones."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from wallet_api import bodylimits


def _slug(r: httpx.Response) -> str:
    return str(r.json()["type"]).rsplit("/", 1)[-1]


async def _chunked(size: int) -> AsyncIterator[bytes]:
    """A body without Content-Length, so only the bytes as they arrive can be counted."""
    chunk = b" " * 16384
    for _ in range(size // len(chunk) + 1):
        yield chunk


@pytest.mark.parametrize("path", ["/v1/auth/challenges", "/v1/registrations", "/v1/auth/sign-in"])
async def test_a_public_route_refuses_a_body_over_the_default_limit(client: httpx.AsyncClient, path: str) -> None:
    body = b'{"pad": "' + b"x" * bodylimits.DEFAULT + b'"}'
    r = await client.post(path, content=body, headers={"content-type": "application/json"})
    assert (r.status_code, _slug(r)) == (413, "payload-too-large")


async def test_a_keyed_request_is_not_buffered_past_the_route_limit(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/auth/challenges",
        content=_chunked(4 * bodylimits.DEFAULT),
        headers={"content-type": "application/json", "Idempotency-Key": "k-1"},
    )
    assert (r.status_code, _slug(r)) == (413, "payload-too-large")


async def test_the_payout_callback_refuses_a_large_body_before_reading_it_for_the_signature(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"events": [' + b" " * (bodylimits.CALLBACK + 1) + b"]}"
    r = await client.post("/v1/providers/momo/payout-events", content=body, headers={"Wallet-Signature": "t=1,v1=0"})
    assert (r.status_code, _slug(r)) == (413, "payload-too-large")
    r = await client.post(
        "/v1/providers/momo/payout-events", content=_chunked(2 * bodylimits.CALLBACK), headers={"Wallet-Signature": "x"}
    )
    assert (r.status_code, _slug(r)) == (413, "payload-too-large")
