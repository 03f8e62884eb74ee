"""Choosing the subscriber database implementation from the settings."""

from __future__ import annotations

import asyncpg
import httpx

from wallet_api.accounts.subscribers.base import SubscriberRegistry
from wallet_api.accounts.subscribers.http import HttpSubscriberRegistry
from wallet_api.accounts.subscribers.local import LocalSubscriberRegistry
from wallet_api.kernel import Settings

__all__ = ["subscriber_registry"]


def subscriber_registry(settings: Settings, http: httpx.AsyncClient, pool: asyncpg.Pool) -> SubscriberRegistry:
    """``WALLET_SUBSCRIBER_REGISTRY_URL`` set: the carriers' database over HTTP; otherwise the local table.

    Built once per process, with its services (wallet_api/services.py).
    """
    if settings.accounts.subscriber_registry_url:
        return HttpSubscriberRegistry(
            http, settings.accounts.subscriber_registry_url, settings.accounts.subscriber_registry_token
        )
    return LocalSubscriberRegistry(pool)
