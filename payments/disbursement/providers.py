"""Which e-wallet provider adapter pays a payment, by the provider code on its wallet link.

Adapters come from the providers registry (``payments.providers.registry``), one set per
worker process, each with its own rate limiter shared across processes through Redis.
"""

from __future__ import annotations

from typing import Any

from payments.providers.base import WalletProvider
from payments.providers.registry import UnknownProvider, registry_of

__all__ = ["wallet_provider"]


def wallet_provider(owner: Any, code: str) -> WalletProvider | None:
    """The adapter for ``code``, or None when none is configured (its payments wait)."""
    try:
        return registry_of(owner).get(code)
    except UnknownProvider:
        return None
