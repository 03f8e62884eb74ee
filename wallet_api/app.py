"""The Litestar application factory.

``create_app()`` wires every domain's routes, the error handlers, OpenAPI, middleware and a
lifespan that opens this process's :class:`~wallet_api.services.Services` (pool, Redis,
HTTP client, keys, the domains' services) and closes them at shutdown.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

from litestar import Litestar
from litestar.config.response_cache import ResponseCacheConfig

from wallet_api import bodylimits, migrate
from wallet_api.accounts.ratelimit import key_names_secret, use_key_names_secret
from wallet_api.auth.middleware import BearerTokenMiddleware
from wallet_api.domains import load_domains
from wallet_api.idempotency import IdempotencyMiddleware
from wallet_api.jsonbody import WalletRequest
from wallet_api.keys.provider import KeyUnwrapError
from wallet_api.observability.logging import configure_logging
from wallet_api.observability.middleware import RequestContextMiddleware
from wallet_api.openapi import openapi_config
from wallet_api.problems import exception_handlers
from wallet_api.services import open_services
from wallet_api.settings import Settings
from wallet_api.state import dependencies

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, extra_routes: Sequence[Any] = ()) -> Litestar:
    """Build the application. ``extra_routes`` let tests and benchmarks mount probes beside the real routes."""
    settings = settings or Settings.from_env()
    if settings.env != "test":
        configure_logging(settings.log_level)
    domains = load_domains()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services(
            settings,
            role="api",
            factories=[f for d in domains for f in d.services],
            signing_keys=[k for d in domains for k in d.signing_keys],
        ) as services:
            async with services.pool.acquire() as conn:
                await migrate.verify(conn)
            use_key_names_secret(key_names_secret(settings.kek_bytes()))
            # Every token and issuer key exists before the first request: a verifier that
            # fetches the JWKS at start-up finds them all, not only those that signed already.
            if not await services.keys.ensure_published():
                raise KeyUnwrapError("Signing keys stored under another WALLET_KEK; refusing to start.")
            # Handlers receive ``services`` (wallet_api/state.py); the middleware, which runs
            # before any dependency, reads the same object from the app's state.
            app.state.update(services=services)
            # Everything built so far (routes, schemas, OpenAPI, pools) lives as long as the
            # process: moved out of the collector's generations, it is no longer traversed by
            # each full collection, which took ~70 ms of a worker's CPU under sign-in load.
            gc.collect()
            gc.freeze()
            yield

    app = Litestar(
        route_handlers=[*(route for d in domains for route in d.routes), *extra_routes],
        plugins=[plugin for d in domains for plugin in d.plugins],
        lifespan=[lifespan],
        dependencies=dependencies(),
        exception_handlers=exception_handlers(),
        middleware=[cast(Any, BearerTokenMiddleware), cast(Any, IdempotencyMiddleware)],
        openapi_config=openapi_config(),
        request_class=WalletRequest,
        response_cache_config=ResponseCacheConfig(default_expiration=5),
        request_max_body_size=bodylimits.DEFAULT,
        debug=False,
        logging_config=None,
    )
    # Outermost layer, around routing itself, so 404/405 also get a request id and metrics,
    # and every answer the default no-store.
    app.asgi_handler = cast(Any, RequestContextMiddleware(cast(Any, app.asgi_handler)))
    return app
