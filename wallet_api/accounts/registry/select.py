"""Choosing the registry implementation from the settings."""

from __future__ import annotations

import asyncpg
import httpx

from wallet_api.accounts.registry.base import PopulationRegistry
from wallet_api.accounts.registry.http import HttpRegistry
from wallet_api.accounts.registry.local import LocalRegistry
from wallet_api.kernel import Settings

__all__ = ["population_registry"]


def population_registry(settings: Settings, http: httpx.AsyncClient, pool: asyncpg.Pool) -> PopulationRegistry:
    """``WALLET_REGISTRY_URL`` set: the real registry over HTTP; otherwise the local table.

    Built once per process, with its services (wallet_api/services.py).
    """
    if settings.accounts.registry_url:
        return HttpRegistry(http, settings.accounts.registry_url, settings.accounts.registry_token)
    return LocalRegistry(pool)
