"""Choosing the registry implementation from the settings."""

from __future__ import annotations

from typing import Any

from wallet_api.accounts.registry.base import PopulationRegistry
from wallet_api.accounts.registry.http import HttpRegistry
from wallet_api.accounts.registry.local import LocalRegistry

__all__ = ["registry_from_state"]


def registry_from_state(state: Any) -> PopulationRegistry:
    """``WALLET_REGISTRY_URL`` set: the real registry over HTTP; otherwise the local table."""
    settings = state.settings
    if settings.registry_url:
        return HttpRegistry(state.http, settings.registry_url, settings.registry_token)
    return LocalRegistry(state.pool)
