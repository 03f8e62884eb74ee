"""Closes this process's provider adapters when the app shuts down."""

from __future__ import annotations

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from payments.providers.registry import ProviderRegistry

__all__ = ["ProvidersPlugin"]


async def _close_providers(app: Litestar) -> None:
    registry = getattr(app.state, "providers", None)
    if isinstance(registry, ProviderRegistry):
        await registry.aclose()


class ProvidersPlugin(InitPluginProtocol):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.on_shutdown.append(_close_providers)
        return app_config
