"""Routes every deployment has: health and the published token keys.

Metrics are not among them: they are served apart (wallet_api/observability/listener.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis
from litestar import Request, Response, get, route
from litestar.enums import MediaType
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from wallet_api.auth.guards import PUBLIC
from wallet_api.auth.tokens import TOKEN_KEY_PURPOSE
from wallet_api.domains import Domain
from wallet_api.janitor import JANITOR
from wallet_api.keys.provider import KeyRequirement, key_set_cache_control
from wallet_api.responses import GET_AND_HEAD, body_or_head
from wallet_api.state import Db, KeyProviderDep, RedisClient

__all__ = ["DOMAIN"]


@get("/health/live", opt=PUBLIC, tags=["health"], summary="The process is up", sync_to_thread=False)
def live() -> dict[str, str]:
    return {"status": "ok"}


async def _check_db(db: asyncpg.Pool) -> str:
    await asyncio.wait_for(db.fetchval("SELECT 1"), timeout=2)
    return "ok"


async def _check_redis(redis: aioredis.Redis) -> str:
    await asyncio.wait_for(redis.ping(), timeout=2)
    return "ok"


@get("/health/ready", opt=PUBLIC, tags=["health"], summary="PostgreSQL and Redis answer")
async def ready(db: Db, redis: RedisClient) -> Response[dict[str, Any]]:
    outcomes = await asyncio.gather(_check_db(db), _check_redis(redis), return_exceptions=True)
    # Any failure means "not ready"; its kind is enough (messages may carry connection details).
    checks = {
        name: outcome if isinstance(outcome, str) else f"error: {type(outcome).__name__}"
        for name, outcome in zip(("postgres", "redis"), outcomes, strict=True)
    }
    ok = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ok" if ok else "unavailable", "checks": checks},
        status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
    )


@route(
    "/.well-known/jwks.json",
    http_method=GET_AND_HEAD,
    opt=PUBLIC,
    tags=["keys"],
    summary="Public keys: access tokens and credential issuers",
    media_type=MediaType.JSON,
)
async def jwks(request: Request[Any, Any, Any], key_provider: KeyProviderDep) -> Response[bytes]:
    # A key required since the process started (a new issuer) is made here rather than at
    # its first signature; a set still missing one is not to be cached.
    complete = await key_provider.ensure_published()
    published = await key_provider.published_keys()
    cache = key_set_cache_control(complete and bool(published))
    body = msgspec.json.encode({"keys": published})
    return body_or_head(request, body, media_type=MediaType.JSON, headers={"Cache-Control": cache})


DOMAIN = Domain(
    name="core",
    routes=[live, ready, jwks],
    loops=[JANITOR],
    signing_keys=[KeyRequirement(TOKEN_KEY_PURPOSE)],
)
