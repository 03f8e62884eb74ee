"""Guards: every route names who may call it.

A route with no guard must say ``opt=PUBLIC``; a test walks every route and fails if one
does neither. A guard's docstring says whom it admits: the OpenAPI document shows it on
every operation the guard protects (wallet_api/openapi.py).

Guards are ``async`` even though none awaits anything: Litestar runs a plain function guard
in a worker thread, a thread hop on every request that cost more than the check itself.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from wallet_api.auth.principal import Principal
from wallet_api.problems import Forbidden, Unauthorized

__all__ = [
    "LEVEL_2_WAYS",
    "PUBLIC",
    "any_authenticated",
    "citizen",
    "citizen_level",
    "client_with_scope",
    "fresh_device_signature",
    "level_too_low",
    "officer_with_role",
    "principal_of",
]

#: ``opt`` marker for routes anyone may call (health, public keys, status lists, sign-in).
PUBLIC: dict[str, Any] = {"public": True}


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise Unauthorized("Sign in first.")
    return user


async def any_authenticated(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Anyone signed in: a citizen, an officer or an organisation's client."""
    principal_of(connection)


async def citizen(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A citizen signed in from the app."""
    if principal_of(connection).kind != "citizen":
        raise Forbidden("Only a citizen signed in from the app may do this.")


#: How a level-1 account reaches level 2, for the app to offer (docs/accounts.md, levels).
LEVEL_2_WAYS = ("chip-and-face-in-app", "police-desk")


def level_too_low(required: int, detail: str | None = None) -> Forbidden:
    """The ``identification-level`` problem: what is needed and the ways to get there."""
    return Forbidden(
        detail
        or f"This needs identification level {required}: read your chip ID card and take a selfie in the app, "
        "or verify in person at a police office.",
        slug="identification-level",
        title="Identification level too low",
        required_level=required,
        ways=list(LEVEL_2_WAYS),
    )


def citizen_level(level: int) -> Guard:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        p = principal_of(connection)
        if p.kind != "citizen":
            raise Forbidden("Only a citizen signed in from the app may do this.")
        if p.level < level:
            raise level_too_low(level)

    guard.__name__ = f"citizen_level_{level}"
    guard.__doc__ = f"A citizen signed in from the app, at identification level {level} or higher."
    return guard


def officer_with_role(*roles: str) -> Guard:
    wanted = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        p = principal_of(connection)
        if p.kind != "officer" or not (p.roles & wanted):
            raise Forbidden(f"This needs an officer with one of the roles: {', '.join(sorted(wanted))}.")

    guard.__name__ = "officer_with_role_" + "_".join(sorted(wanted))
    guard.__doc__ = f"An officer with one of the roles: {', '.join(sorted(wanted))}."
    return guard


def client_with_scope(*scopes: str) -> Guard:
    wanted = frozenset(scopes)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        p = principal_of(connection)
        if p.kind != "client" or not wanted <= p.scopes:
            raise Forbidden(f"This needs an organisation client with scope: {' '.join(sorted(wanted))}.")

    guard.__name__ = "client_with_scope_" + "_".join(sorted(wanted))
    guard.__doc__ = f"An organisation's OAuth2 client with the scopes: {' '.join(sorted(wanted))}."
    return guard


def fresh_device_signature(max_age_seconds: int = 300) -> Guard:
    """Step-up: the citizen's last device signature must be recent."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        p = principal_of(connection)
        # Only a device signature sets auth_time, and it must name the device that made it.
        if p.kind != "citizen" or not p.device_id or time.time() - p.auth_time > max_age_seconds:
            raise Unauthorized(
                "Confirm with your device first.",
                slug="step-up-required",
                title="A fresh device signature is required",
                max_age=max_age_seconds,
            )

    guard.__name__ = f"fresh_device_signature_{max_age_seconds}"
    guard.__doc__ = f"Whose last device signature (sign-in or step-up) is at most {max_age_seconds} s old."
    return guard
