"""Which adapter serves which provider code, one set per process.

``provider_for(code, owner)`` is the one way code gets a provider. ``owner`` is whatever
holds this process's shared clients: a worker's ``WorkerContext`` (the registry is kept in
``ctx.services`` and closed with the worker), the app's ``app.state`` (closed by the
providers plugin at shutdown), or a :class:`ProviderRegistry` itself (tests, scripts).
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from payments.providers.adapter import OwnedProvider, adapter_named
from payments.providers.base import ProviderError, WalletProvider
from payments.providers.config import ProviderConfig, load_provider_configs
from payments.providers.ratelimit import ProviderRateLimiter
from wallet_api.settings import Settings

__all__ = ["ProviderRegistry", "UnknownProvider", "provider_for", "registry_of"]

_SERVICE = "providers"


class UnknownProvider(ProviderError):
    """No provider with this code is configured."""

    def __init__(self, code: str) -> None:
        super().__init__(f"no provider {code!r} is configured")
        self.code = code


class ProviderRegistry:
    """The configured providers and their adapters (each built on first use by the adapter
    plugin its configuration names)."""

    def __init__(self, settings: Settings, redis: aioredis.Redis) -> None:
        self.configs: dict[str, ProviderConfig] = load_provider_configs(settings)
        self._redis = redis
        self._adapters: dict[str, OwnedProvider] = {}

    def codes(self) -> list[str]:
        return list(self.configs)

    def config(self, code: str) -> ProviderConfig:
        try:
            return self.configs[code]
        except KeyError:
            raise UnknownProvider(code) from None

    def get(self, code: str) -> WalletProvider:
        adapter = self._adapters.get(code)
        if adapter is None:
            config = self.config(code)
            limiter = ProviderRateLimiter(
                self._redis,
                code,
                rate=config.rate_limit_per_second,
                burst=config.burst,
                max_wait=config.max_wait_seconds,
                fallback_share=config.fallback_share,
            )
            plugin = adapter_named(config.adapter)
            assert plugin is not None  # checked when the configuration was read
            adapter = plugin.build(config, limiter)
            self._adapters[code] = adapter
        return adapter

    async def aclose(self) -> None:
        adapters, self._adapters = list(self._adapters.values()), {}
        for adapter in adapters:
            await adapter.aclose()


def registry_of(owner: Any) -> ProviderRegistry:
    """The registry held by a WorkerContext, an app state, or the registry itself."""
    if isinstance(owner, ProviderRegistry):
        return owner
    services = getattr(owner, "services", None)
    if isinstance(services, dict):
        registry = services.get(_SERVICE)
        if registry is None:
            registry = services[_SERVICE] = ProviderRegistry(owner.settings, owner.redis)
        return registry
    registry = getattr(owner, "providers", None)
    if registry is None:
        registry = ProviderRegistry(owner.settings, owner.redis)
        owner.providers = registry
    if not isinstance(registry, ProviderRegistry):
        raise TypeError("owner.providers is not a ProviderRegistry")
    return registry


def provider_for(code: str, owner: Any) -> WalletProvider:
    """The adapter for provider ``code``; raises :class:`UnknownProvider` for an unknown code."""
    return registry_of(owner).get(code)
