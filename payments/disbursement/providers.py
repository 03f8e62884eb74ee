"""Which e-wallet provider adapter pays a payment, by the provider code on its wallet link.

A worker keeps its adapters in ``WorkerContext.services["wallet_providers"]`` (code →
:class:`~payments.providers.base.WalletProvider`), built once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from payments.providers.base import WalletProvider

__all__ = ["SERVICE_KEY", "wallet_provider"]

SERVICE_KEY = "wallet_providers"


def wallet_provider(services: Mapping[str, Any], code: str) -> WalletProvider | None:
    """The adapter for ``code``, or None when this worker has none (its payments wait)."""
    providers: Mapping[str, WalletProvider] = services.get(SERVICE_KEY) or {}
    return providers.get(code)
