"""Every error class answers with RFC 9457 problem details and a stable type."""

from typing import Any

import httpx
import pytest

from tests.support.tokens import Mint
from wallet_api.problems import PROBLEM_BASE


def assert_problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["type"] == PROBLEM_BASE + slug
    assert body["status"] == status
    assert body["title"]
    assert body["request_id"] == r.headers["x-request-id"]
    return body


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/nowhere"), 404, "not-found")


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/health/live"), 405, "method-not-allowed")


async def test_bad_path_parameter_is_a_problem_not_a_500(client: httpx.AsyncClient) -> None:
    r = await client.get("/_probe/items/not-a-number")
    assert r.status_code in (400, 404, 422)
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_bad_query_parameter_is_422_with_field_errors(client: httpx.AsyncClient) -> None:
    r = await client.get("/_probe/items/3", params={"limit": "many"})
    body = assert_problem(r, 422, "validation")
    assert body["errors"][0]["key"] == "limit"


async def test_invalid_json_body_is_a_validation_problem(client: httpx.AsyncClient) -> None:
    r = await client.post("/_probe/things", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code in (400, 422)
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_wrong_body_type_is_422(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.post("/_probe/things", json={"name": "x", "amount": "ten"}), 422, "validation")
    assert "ten" not in str(body)  # the offending value is not echoed back


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/_probe/me")
    assert_problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_framework_401_is_translated(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/_probe/framework-401"), 401, "unauthorized")


async def test_garbage_token_is_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/_probe/me", headers={"Authorization": "Bearer abc.def.ghi"}), 401, "unauthorized")


async def test_insufficient_level_is_403_with_its_own_type(client: httpx.AsyncClient, mint: Mint) -> None:
    headers = await mint(kind="citizen", subject="a", level=1)
    body = assert_problem(await client.get("/_probe/level2", headers=headers), 403, "identification-level")
    assert body["required_level"] == 2


async def test_wrong_principal_kind_is_403(client: httpx.AsyncClient, mint: Mint) -> None:
    headers = await mint(kind="officer", subject="o1", roles=frozenset({"police_officer"}))
    assert_problem(await client.get("/_probe/me", headers=headers), 403, "forbidden")


async def test_conflict_is_409_with_domain_slug(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/_probe/conflict"), 409, "probe-conflict")


async def test_rate_limit_is_429_with_retry_after(client: httpx.AsyncClient) -> None:
    r = await client.get("/_probe/limited")
    assert_problem(r, 429, "rate-limited")
    assert r.headers["retry-after"] == "7"


async def test_framework_429_is_translated(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/_probe/framework-429"), 429, "rate-limited")


@pytest.mark.parametrize("path", ["/_probe/crash"])
async def test_unhandled_error_is_500_without_details(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path, headers={"x-probe-data": "001099012345"})
    body = assert_problem(r, 500, "internal")
    text = r.text
    assert "001099012345" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    assert set(body) <= {"type", "title", "status", "detail", "instance", "request_id"}


async def test_unhandled_error_log_has_no_personal_data(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    from wallet_api.observability.logging import JsonFormatter

    caplog.set_level("ERROR")
    await client.get("/_probe/crash", headers={"x-probe-data": "Nguyen Van A 001099012345"})
    lines = [JsonFormatter().format(rec) for rec in caplog.records]
    assert lines
    assert all("001099012345" not in line and "Nguyen" not in line for line in lines)
