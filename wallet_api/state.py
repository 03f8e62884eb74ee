"""The dependencies handlers ask for: this process's services, opened by the app's lifespan."""

from __future__ import annotations

from typing import Any, cast

import asyncpg
import httpx
import redis.asyncio as aioredis
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from wallet_api.auth.principal import Principal
from wallet_api.auth.tokens import TokenService
from wallet_api.keys.provider import DatabaseKeyProvider
from wallet_api.services import Services
from wallet_api.settings import Settings

__all__ = [
    "AppServices",
    "AppSettings",
    "Caller",
    "Db",
    "Http",
    "KeyProviderDep",
    "RedisClient",
    "Tokens",
    "dependencies",
]

# Handlers declare what they need by these names and types, e.g. ``async def f(db: Db)``;
# ``services: AppServices`` gives the whole (a domain's services: ``services.get(FACTORY)``)
# and ``principal: Caller`` the caller the route's guards admitted.
AppServices = NamedDependency[Services]
Caller = NamedDependency[Principal]
Db = NamedDependency[asyncpg.Pool]
RedisClient = NamedDependency[aioredis.Redis]
AppSettings = NamedDependency[Settings]
KeyProviderDep = NamedDependency[DatabaseKeyProvider]
Tokens = NamedDependency[TokenService]
Http = NamedDependency[httpx.AsyncClient]


# Each provider after the first names the one before it as a parameter it does not use.
# Litestar resolves dependencies in batches of those that depend on nothing unresolved,
# and runs a batch of two or more in an anyio task group (one task each): asking for
# ``db`` and ``redis`` cost about 0.09 ms of CPU per request in the task group alone,
# more than resolving the whole chain one by one. A handler that asks for a later link
# also gets the earlier ones resolved, each a cheap read (about 3 µs of Litestar's work
# per link). The order puts first what most routes ask for: ``db``, then the caller.


def _pool(state: State) -> asyncpg.Pool:
    return cast(Services, state.services).pool


# On a public route there may be no caller: the link is None there, and a public route must
# not ask for ``principal`` (tests/accounts/test_authorisation_matrix.py).
def _principal(request: Request[Any, Any, Any], db: asyncpg.Pool) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def _services(state: State, principal: Principal | None) -> Services:
    return cast(Services, state.services)


def _redis(services: Services) -> aioredis.Redis:
    return services.redis


def _settings(services: Services, redis: aioredis.Redis) -> Settings:
    return services.settings


def _keys(services: Services, settings: Settings) -> DatabaseKeyProvider:
    return services.keys


def _tokens(services: Services, key_provider: DatabaseKeyProvider) -> TokenService:
    return services.tokens


def _http(services: Services, tokens: TokenService) -> httpx.AsyncClient:
    return services.http


def dependencies() -> dict[str, Any]:
    """Handlers ask for ``db``, ``principal``, ``services``, ``redis``, ``settings``, ``key_provider``, ``tokens``
    or ``http``."""
    return {
        "db": Provide(_pool, sync_to_thread=False),
        "principal": Provide(_principal, sync_to_thread=False),
        "services": Provide(_services, sync_to_thread=False),
        "redis": Provide(_redis, sync_to_thread=False),
        "settings": Provide(_settings, sync_to_thread=False),
        "key_provider": Provide(_keys, sync_to_thread=False),
        "tokens": Provide(_tokens, sync_to_thread=False),
        "http": Provide(_http, sync_to_thread=False),
    }
