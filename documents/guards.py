"""Who may verify documents (verifier systems and officers) and who may issue them (agency systems and operators)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from wallet_api.kernel import Forbidden, Principal, principal_of

__all__ = ["issuing_agency", "may_issue", "may_verify", "verifier"]


def may_verify(p: Principal) -> bool:
    return bool(
        p.org_id
        and (
            (p.kind == "client" and "documents:verify" in p.scopes)
            or (p.kind == "officer" and "verifier_agent" in p.roles)
        )
    )


async def verifier(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A verifier: an OAuth2 client with ``documents:verify`` or an officer with the role ``verifier_agent``."""
    if not may_verify(principal_of(connection)):
        raise Forbidden("Only an authorised verifier may verify documents.", slug="not-a-verifier")


def may_issue(p: Principal) -> bool:
    """An issuing agency's system (``documents:issue``) or one of its operators (the agency console)."""
    return bool(
        p.org_id
        and (
            (p.kind == "client" and "documents:issue" in p.scopes)
            or (p.kind == "officer" and "issuer_operator" in p.roles)
        )
    )


async def issuing_agency(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """An issuing agency: its OAuth2 client with ``documents:issue`` or one of its ``issuer_operator`` officers."""
    if not may_issue(principal_of(connection)):
        raise Forbidden("This needs an issuing agency's client (documents:issue) or an issuer operator.")
