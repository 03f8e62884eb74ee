"""Who may verify documents: verifier systems (``documents:verify``) and verifier officers."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from wallet_api.auth.guards import principal_of
from wallet_api.auth.principal import Principal
from wallet_api.problems import Forbidden

__all__ = ["may_verify", "verifier"]


def may_verify(p: Principal) -> bool:
    return bool(
        p.org_id
        and (
            (p.kind == "client" and "documents:verify" in p.scopes)
            or (p.kind == "officer" and "verifier_agent" in p.roles)
        )
    )


async def verifier(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not may_verify(principal_of(connection)):
        raise Forbidden("Only an authorised verifier may verify documents.", slug="not-a-verifier")
