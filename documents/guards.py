"""Who may verify documents: verifier systems (``documents:verify``) and verifier officers."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from wallet_api.auth.guards import principal_of
from wallet_api.problems import Forbidden

__all__ = ["verifier"]


async def verifier(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    p = principal_of(connection)
    if p.kind == "client" and "documents:verify" in p.scopes and p.org_id:
        return
    if p.kind == "officer" and "verifier_agent" in p.roles and p.org_id:
        return
    raise Forbidden("Only an authorised verifier may verify documents.", slug="not-a-verifier")
