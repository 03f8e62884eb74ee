"""Gateways to the outside world for messages: push (FCM, APNs) and SMS.

:func:`build_gateways` picks, from settings, the real HTTP adapter for each channel or, in
development and tests, the local sink that keeps messages in Redis. Production with a
channel left unconfigured gets no sink: deliveries on it fail (and are retried) until it
is configured, so nothing is silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from notifications.gateways.apns import ApnsGateway
from notifications.gateways.fcm import FcmGateway, ServiceAccount
from notifications.gateways.push import (
    DevPushSink,
    PushError,
    PushGateway,
    PushMessage,
    PushRejected,
    PushTokenGone,
    PushUnavailable,
    read_dev_push,
)
from notifications.gateways.sms import DevSmsSink, HttpSmsGateway, SmsGateway, SmsGatewayError, read_dev_sms
from wallet_api.settings import Settings

__all__ = [
    "ApnsGateway",
    "DevPushSink",
    "DevSmsSink",
    "FcmGateway",
    "Gateways",
    "HttpSmsGateway",
    "NotConfigured",
    "PushError",
    "PushGateway",
    "PushMessage",
    "PushRejected",
    "PushTokenGone",
    "PushUnavailable",
    "ServiceAccount",
    "SmsGateway",
    "SmsGatewayError",
    "build_gateways",
    "read_dev_push",
    "read_dev_sms",
    "sms_gateway",
]


class NotConfigured(PushUnavailable):
    """Production has no gateway settings for this channel."""


class _Unconfigured:
    def __init__(self, channel: str) -> None:
        self._channel = channel

    async def send(self, *_: Any, **__: Any) -> None:
        raise NotConfigured(f"{self._channel} gateway not configured")


class _UnconfiguredSms:
    async def send(self, phone: str, text: str, *, reference: str) -> None:
        raise SmsGatewayError("sms gateway not configured")


@dataclass
class Gateways:
    fcm: PushGateway
    apns: PushGateway
    sms: SmsGateway
    _owned: list[Any] = field(default_factory=list)

    def push(self, channel: str) -> PushGateway:
        return self.fcm if channel == "fcm" else self.apns

    async def aclose(self) -> None:
        for gateway in self._owned:
            await gateway.aclose()


def sms_gateway(settings: Settings, http: httpx.AsyncClient, redis: aioredis.Redis) -> SmsGateway:
    """The SMS gateway for these settings (accounts use it for one-time codes too)."""
    if settings.sms_gateway_url:
        return HttpSmsGateway(http, settings.sms_gateway_url, settings.sms_gateway_token)
    if settings.env == "production":
        return _UnconfiguredSms()
    return DevSmsSink(redis)


def build_gateways(settings: Settings, http: httpx.AsyncClient, redis: aioredis.Redis) -> Gateways:
    owned: list[Any] = []
    fcm: PushGateway
    apns: PushGateway
    if settings.push_fcm_service_account:
        account = ServiceAccount.from_file(Path(settings.push_fcm_service_account))
        fcm = FcmGateway(http, account, settings.push_fcm_endpoint)
    elif settings.env == "production":
        fcm = _Unconfigured("fcm")
    else:
        fcm = DevPushSink(redis, "fcm")
    if settings.push_apns_key_file:
        gateway = ApnsGateway(
            key_pem=Path(settings.push_apns_key_file).read_text(encoding="utf-8"),
            key_id=settings.push_apns_key_id,
            team_id=settings.push_apns_team_id,
            topic=settings.push_apns_topic,
            endpoint=settings.push_apns_endpoint,
        )
        owned.append(gateway)
        apns = gateway
    elif settings.env == "production":
        apns = _Unconfigured("apns")
    else:
        apns = DevPushSink(redis, "apns")
    return Gateways(fcm=fcm, apns=apns, sms=sms_gateway(settings, http, redis), _owned=owned)
