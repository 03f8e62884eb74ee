"""What a grant handler of the token endpoint gets and gives (``openid4vci/token.py``, ``GRANTS``).

Its own module so that a grant written elsewhere (the authorization code flow,
``openid4vci/authorization/grant.py``) and the endpoint that dispatches to it both import it
without importing each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis

from openid4vci.dpop import DpopKey
from wallet_api.kernel import Services, Settings

__all__ = ["GrantHandler", "GrantRequest", "Granted"]


@dataclass(frozen=True, slots=True)
class GrantRequest:
    """What a grant handler gets: the request's parameters, its checked DPoP key, and services."""

    params: Mapping[str, str]
    dpop: DpopKey
    pool: asyncpg.Pool
    redis: aioredis.Redis
    settings: Settings
    #: The caller's address, for lockouts.
    source: str
    #: The request's headers (a wallet attestation travels in them).
    headers: Mapping[str, str]
    #: The process's services (a grant's own, e.g. the trusted wallet providers).
    services: Services


@dataclass(frozen=True, slots=True)
class Granted:
    """Whose documents, and which, the access token may fetch."""

    account_id: UUID
    document_ids: list[UUID]
    #: The token response's ``authorization_details`` when the grant knows the configurations
    #: asked for (the authorization code flow); otherwise one SD-JWT configuration per type.
    authorization_details: list[dict[str, Any]] | None = None


GrantHandler = Callable[[GrantRequest], Awaitable[Granted]]
