"""A process's services: built once from the settings, handed in explicitly, closed once.

The API (its Litestar lifespan, wallet_api/app.py) and the worker (wallet_api/worker.py)
both open their services with :func:`open_services`; handlers, consumers and loops receive
the :class:`Services` (or a domain service taken from it) rather than reaching into module
globals or ``app.state``.

The kernel's services are attributes (pool, Redis, HTTP client, keys, tokens, the
population and subscriber registries, the batchers). A domain's own services (its provider
adapters, its channels' gateways, ...) are :class:`ServiceFactory` declarations in its
``Domain``; ``services.get(FACTORY)`` gives the one instance of the process, built the first
time it is asked for and closed with the process.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, cast, runtime_checkable

import asyncpg
import httpx
import redis.asyncio as aioredis

from wallet_api.auth.tokens import TokenService
from wallet_api.batching import Batchers
from wallet_api.db import create_pool
from wallet_api.keys.provider import DatabaseKeyProvider, KeyRequirement
from wallet_api.redis_client import create_redis
from wallet_api.settings import Settings

if TYPE_CHECKING:
    from wallet_api.accounts.registry import PopulationRegistry
    from wallet_api.accounts.subscribers import SubscriberRegistry

__all__ = ["ServiceFactory", "Services", "UndeclaredService", "open_services", "provided_by_a_domain"]

S = TypeVar("S")


@runtime_checkable
class _Closeable(Protocol):
    async def aclose(self) -> None: ...


@dataclass(frozen=True, eq=False)
class ServiceFactory(Generic[S]):
    """How a domain builds one of its per-process services from the kernel's.

    The factory object itself is the key: ``services.get(PROVIDERS)`` is typed by it. A
    service with an ``aclose()`` is closed when the process's services close.
    """

    name: str
    build: Callable[[Services], S]

    def provided_by(self, build: Callable[[Services], S]) -> ServiceFactory[S]:
        """This service, built by ``build``: how a domain provides a service the kernel names
        (the SMS sender, wallet_api/outbound.py) without the kernel importing the domain."""
        return ServiceFactory(self.name, build)


class UndeclaredService(LookupError):
    """A service asked for that no domain of this process declares."""


def provided_by_a_domain(services: Services) -> Any:
    """The ``build`` of a service the kernel names and a domain provides (``provided_by``)."""
    raise UndeclaredService("a domain provides this service; none of this process's does")


class Services:
    """What one process holds: the kernel's clients and the domains' services built from them."""

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        redis: aioredis.Redis,
        http: httpx.AsyncClient,
        *,
        factories: Iterable[ServiceFactory[Any]] = (),
        signing_keys: Iterable[KeyRequirement] = (),
        replacing: Mapping[ServiceFactory[Any], object] | None = None,
    ) -> None:
        """``replacing`` puts a given object in place of a factory's (tests: a local provider)."""
        self.settings = settings
        self.pool = pool
        self.redis = redis
        self.http = http
        self.keys = DatabaseKeyProvider(pool, settings.kek_bytes(), list(signing_keys))
        self.tokens = TokenService(
            self.keys, issuer=settings.public_base_url, ttl_seconds=settings.access_token_ttl_seconds
        )
        # The accounts domain's adapters are imported here, not at the top: accounts imports
        # the kernel through wallet_api.kernel, which imports this module.
        from wallet_api.accounts.registry import population_registry
        from wallet_api.accounts.subscribers import subscriber_registry

        self.population: PopulationRegistry = population_registry(settings, http, pool)
        self.subscribers: SubscriberRegistry = subscriber_registry(settings, http, pool)
        self.batchers = Batchers()
        self._declared: dict[str, ServiceFactory[Any]] = {}
        for factory in factories:
            if self._declared.setdefault(factory.name, factory) is not factory:
                raise ValueError(f"two domains declare the service {factory.name!r}")
        self._replacing = {f.name: obj for f, obj in (replacing or {}).items()}
        self._built: dict[str, object] = dict(self._replacing)
        self._owned: list[_Closeable] = []

    def get(self, factory: ServiceFactory[S]) -> S:
        """The process's one instance of ``factory``'s service, built on first use."""
        built = self._built.get(factory.name)
        if built is None:
            declared = self._declared.get(factory.name)
            if declared is None:
                raise UndeclaredService(f"no domain of this process declares the service {factory.name!r}")
            built = self._built[factory.name] = declared.build(self)
            if isinstance(built, _Closeable):
                self._owned.append(built)
        return cast(S, built)

    def replaced(
        self, *, settings: Settings | None = None, services: Mapping[ServiceFactory[Any], object] | None = None
    ) -> Services:
        """These services with other settings or some domain services replaced (tests, tools).

        The copy shares the kernel's clients, keys and batchers, and keeps what was replaced
        before; it builds its own other domain services (from its settings), which are closed
        with the original.
        """
        other = copy.copy(self)
        if settings is not None:
            other.settings = settings
        other._replacing = {**self._replacing, **{f.name: obj for f, obj in (services or {}).items()}}
        other._built = dict(other._replacing)
        return other

    async def aclose(self) -> None:
        """Finish the batches in flight, then close the domains' services (last built first).

        The kernel's clients stay open: whoever opened them closes them (:func:`open_services`).
        """
        await self.batchers.drain()
        while self._owned:
            await self._owned.pop().aclose()


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    role: Literal["api", "worker"],
    factories: Iterable[ServiceFactory[Any]] = (),
    signing_keys: Iterable[KeyRequirement] = (),
) -> AsyncIterator[Services]:
    """Open this process's pool, Redis and HTTP clients, build its :class:`Services`; close all at exit."""
    # The API keeps a warm pool for requests; a worker's loops open connections as they need
    # them, and its provider calls fan out wider than a request's.
    min_size = settings.db_pool_min if role == "api" else 1
    limits = httpx.Limits() if role == "api" else httpx.Limits(max_connections=200)
    pool = await create_pool(settings.database_url, min_size=min_size, max_size=settings.db_pool_max)
    redis = create_redis(settings.redis_url, max_connections=settings.redis_pool_max)
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0), limits=limits)
    try:
        services = Services(settings, pool, redis, http, factories=factories, signing_keys=signing_keys)
        try:
            yield services
        finally:
            await services.aclose()
    finally:
        await http.aclose()
        await redis.aclose()
        await pool.close()
