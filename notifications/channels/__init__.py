"""Notification channels: one sub-package each, found at import time.

Adding a channel means adding a folder here whose ``__init__`` exports ``PLUGIN`` (a
:class:`~notifications.channels.base.ChannelPlugin`); the delivery loops, the fan-out of
notices, the preferences API and the CLI take the set of channels from here.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import redis.asyncio as aioredis

from notifications.channels.base import (
    AddressChannel,
    Channel,
    ChannelPlugin,
    Contact,
    Destination,
    Device,
    Message,
)
from wallet_api.kernel import Settings, folder_plugins

__all__ = [
    "PLUGINS",
    "AddressChannel",
    "Channel",
    "ChannelPlugin",
    "Channels",
    "Contact",
    "Destination",
    "Device",
    "Message",
    "build_channels",
    "preference_defaults",
]


#: Every channel, by name.
PLUGINS: dict[str, ChannelPlugin] = folder_plugins(__name__, __path__, "PLUGIN", ChannelPlugin, lambda p: p.name)


def preference_defaults() -> dict[str, bool]:
    """Each preference a citizen can choose, with its default where a category names none."""
    defaults: dict[str, bool] = {}
    for plugin in PLUGINS.values():
        defaults[plugin.preference] = defaults.get(plugin.preference, False) or plugin.default
    return defaults


class Channels:
    """The channels of one process, built once from its settings and clients."""

    def __init__(self, built: dict[str, Channel]) -> None:
        self._built = built

    def __getitem__(self, name: str) -> Channel:
        return self._built[name]

    def __iter__(self) -> Iterator[tuple[ChannelPlugin, Channel]]:
        return ((PLUGINS[name], channel) for name, channel in self._built.items())

    def address_channel(self, name: str) -> AddressChannel | None:
        """The channel ``name`` if the citizen confirms its address (e-mail), else None."""
        channel = self._built.get(name)
        return channel if isinstance(channel, AddressChannel) else None

    async def aclose(self) -> None:
        for channel in self._built.values():
            await channel.aclose()


def build_channels(settings: Settings, http: httpx.AsyncClient, redis: aioredis.Redis) -> Channels:
    return Channels({name: plugin.build(settings, http, redis) for name, plugin in PLUGINS.items()})
