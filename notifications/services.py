"""The notifications services of one process: its channels, built once and closed once.

The API process builds them in a lifespan added by :class:`ChannelsLifespan` (after the
application's own, whose clients they use) and publishes the SMS sender as
``app.state.sms_sender`` for one-time codes (wallet_api.outbound.SmsSender); a worker
builds them on first use in its context (:func:`channels_of`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin

from notifications.channels import Channels, build_channels
from notifications.channels.sms import SmsChannel
from wallet_api.worker_context import WorkerContext

__all__ = ["ChannelsLifespan", "channels_of"]

_SERVICE = "notifications.channels"


def channels_of(ctx: WorkerContext) -> Channels:
    """This worker's channels, built once from its settings and clients."""
    channels = ctx.services.get(_SERVICE)
    if channels is None:
        channels = build_channels(ctx.settings, ctx.http, ctx.redis)
        ctx.services[_SERVICE] = channels
    assert isinstance(channels, Channels)
    return channels


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    channels = build_channels(app.state.settings, app.state.http, app.state.redis)
    sms = channels["sms"]
    assert isinstance(sms, SmsChannel)
    app.state.update(notification_channels=channels, sms_sender=sms.sender)
    try:
        yield
    finally:
        await channels.aclose()


class ChannelsLifespan(InitPlugin):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan = [*app_config.lifespan, _lifespan]
        return app_config
