"""Choosing the subscriber database implementation from the settings."""

from __future__ import annotations

from typing import Any

from wallet_api.accounts.subscribers.base import SubscriberRegistry
from wallet_api.accounts.subscribers.http import HttpSubscriberRegistry
from wallet_api.accounts.subscribers.local import LocalSubscriberRegistry

__all__ = ["subscribers_from_state"]


def subscribers_from_state(state: Any) -> SubscriberRegistry:
    """``WALLET_SUBSCRIBER_REGISTRY_URL`` set: the carriers' database over HTTP; otherwise the local table."""
    settings = state.settings
    if settings.subscriber_registry_url:
        return HttpSubscriberRegistry(state.http, settings.subscriber_registry_url, settings.subscriber_registry_token)
    return LocalSubscriberRegistry(state.pool)
