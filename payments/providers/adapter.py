"""Provider adapters as plugins: one folder each under ``payments/providers/adapters/``.

A provider's configuration names its adapter (``"adapter": "http"``, the default); the
adapter turns that configuration into a :class:`~payments.providers.base.WalletProvider`.
Adding an adapter means adding a folder ``adapters/<name>/`` whose ``__init__`` exports
``ADAPTER`` (a :class:`ProviderAdapter` named after the folder); no other file changes.
Adapters are looked up when a registry is built, never registered by importing them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from payments.providers import adapters
from payments.providers.base import WalletProvider
from wallet_api.kernel import folder_plugins

if TYPE_CHECKING:
    from payments.providers.config import ProviderConfig
    from payments.providers.ratelimit import ProviderRateLimiter

__all__ = ["OwnedProvider", "ProviderAdapter", "adapter_named", "adapter_names"]


class OwnedProvider(WalletProvider, Protocol):
    """A provider adapter as its registry holds it: it owns connections to close at shutdown."""

    async def aclose(self) -> None: ...


def _no_options(options: Mapping[str, Any]) -> None:
    if options:
        raise ValueError(f"takes no options (got {', '.join(sorted(options))})")


@dataclass(frozen=True)
class ProviderAdapter:
    """How one kind of provider API is spoken."""

    #: The folder name; what a provider's ``adapter`` setting names.
    name: str
    #: One adapter instance per provider per process; ``limiter`` keeps every process of the
    #: service within the provider's rate (the caller owns it; the adapter only acquires).
    build: Callable[[ProviderConfig, ProviderRateLimiter], OwnedProvider]
    #: Checks the adapter's own settings (``options`` of the configuration) at start-up:
    #: raises ``ValueError`` saying what is wrong.
    check_options: Callable[[Mapping[str, Any]], None] = _no_options


@functools.cache
def _discover() -> dict[str, ProviderAdapter]:
    return folder_plugins(adapters.__name__, adapters.__path__, "ADAPTER", ProviderAdapter, lambda a: a.name)


def adapter_names() -> list[str]:
    return sorted(_discover())


def adapter_named(name: str) -> ProviderAdapter | None:
    return _discover().get(name)
