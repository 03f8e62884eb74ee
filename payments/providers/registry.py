"""Which adapter serves which provider code, one set per process.

``provider_for(code, services)`` is the one way code gets a provider: the registry is the
process's :data:`PROVIDERS` service (wallet_api/services.py), built once and closed with
the process; tests and scripts may pass a :class:`ProviderRegistry` of their own.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from payments.providers.adapter import OwnedProvider, adapter_named
from payments.providers.base import ProviderError, WalletProvider
from payments.providers.config import ProviderConfig, load_provider_configs
from payments.providers.ratelimit import ProviderRateLimiter
from wallet_api.kernel import ServiceFactory, Settings

__all__ = ["PROVIDERS", "ProviderRegistry", "UnknownProvider", "provider_for"]


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


#: The process's provider registry.
PROVIDERS = ServiceFactory("wallet-providers", lambda services: ProviderRegistry(services.settings, services.redis))


def provider_for(code: str, registry: ProviderRegistry) -> WalletProvider:
    """The adapter for provider ``code``; raises :class:`UnknownProvider` for an unknown code."""
    return registry.get(code)
