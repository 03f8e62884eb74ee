"""Health, request ids, metrics and the OpenAPI document."""

import httpx

from tests.support.servers import ServerSet
from tests.support.tokens import Mint


async def test_live_answers_ok(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_ready_checks_postgres_and_redis(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/ready")
    assert r.status_code == 200
    assert r.json()["checks"] == {"postgres": "ok", "redis": "ok"}


async def test_request_id_is_echoed_when_valid(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"


async def test_request_id_is_generated_when_missing_or_invalid(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live", headers={"X-Request-ID": "bad id with spaces\n"})
    assert r.headers["x-request-id"] != "bad id with spaces\n"
    assert len(r.headers["x-request-id"]) == 32


async def test_unmatched_routes_also_get_a_request_id(client: httpx.AsyncClient) -> None:
    r = await client.get("/no/such/route")
    assert r.status_code == 404
    assert r.headers["x-request-id"]


async def test_metrics_count_requests_by_route_and_status(client: httpx.AsyncClient, metrics_url: str) -> None:
    await client.get("/health/live")
    async with httpx.AsyncClient() as scraper:
        body = (await scraper.get(metrics_url)).text
    assert 'wallet_http_requests_total{method="GET",route="/health/live",status="200"}' in body
    assert "wallet_http_request_duration_seconds_bucket" in body


async def test_openapi_is_version_3_1(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    assert "/health/live" in doc["paths"]
    page = await client.get("/schema")
    assert page.status_code == 200


async def test_jwks_publishes_the_token_key(client: httpx.AsyncClient, mint: Mint) -> None:
    await mint()
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert keys and all(k["kty"] == "EC" and k["alg"] == "ES256" and "d" not in k for k in keys)


async def test_ready_reports_redis_down_as_503(client: httpx.AsyncClient, servers: ServerSet) -> None:
    """Losing Redis makes the service not ready; it must not crash or hang."""
    assert servers.redis is not None, "needs the embedded Redis to stop it"
    servers.redis.stop()
    try:
        r = await client.get("/health/ready")
        assert r.status_code == 503
        assert r.json()["checks"]["postgres"] == "ok"
        assert r.json()["checks"]["redis"].startswith("error")
    finally:
        servers.redis.start()
    assert (await client.get("/health/ready")).status_code == 200
