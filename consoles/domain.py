"""What the consoles contribute to the service: pages under /verify, /agency and /welfare."""

from __future__ import annotations

from typing import Any, cast

from litestar import Router
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol
from litestar.static_files import create_static_files_router

from consoles import agency, verifier, welfare
from consoles.pages import HERE, SECURITY_HEADERS, TEMPLATES, page_exception_handlers
from consoles.session import SessionCookieMiddleware
from consoles.signin import sign_in_routes
from wallet_api.kernel import NOT_REPLAYED, PUBLIC, Domain

__all__ = ["DOMAIN"]


class _Templates(InitPluginProtocol):
    """The consoles' Jinja2 templates, registered with the app."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.template_config = TEMPLATES
        return app_config


def _console(path: str, routes: list[object], roles: frozenset[str]) -> Router:
    return Router(
        path=path,
        route_handlers=[*routes, *sign_in_routes(roles)],  # type: ignore[list-item]
        middleware=[cast(Any, SessionCookieMiddleware)],
        response_headers=SECURITY_HEADERS,
        exception_handlers=page_exception_handlers(),
        include_in_schema=False,
        # Console answers carry session cookies, CSRF tokens and documents' personal data:
        # never stored for replay under an Idempotency-Key (wallet_api/idempotency.py).
        opt=NOT_REPLAYED,
    )


DOMAIN = Domain(
    name="consoles",
    routes=[
        _console("/verify", list(verifier.ROUTES), frozenset({verifier.ROLE})),
        _console("/agency", list(agency.ROUTES), frozenset({agency.ROLE})),
        _console("/welfare", list(welfare.ROUTES), welfare.ROLES),
        create_static_files_router(
            path="/static/consoles",
            directories=[HERE / "static"],
            opt=PUBLIC,
            name="console-static",
            after_request=None,
        ),
    ],
    plugins=[_Templates()],
)
