"""Push to Android devices through Firebase Cloud Messaging (HTTP v1 API, ``http.py``).

Configured by ``WALLET_PUSH_FCM_SERVICE_ACCOUNT``; without it development and tests use the
local push box (``notifications.channels.push.read_dev_push``).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from notifications.channels.fcm.http import FcmGateway, ServiceAccount
from notifications.channels.push import PushSender, push_plugin
from wallet_api.kernel import Settings

__all__ = ["PLUGIN"]


def _real(settings: Settings, http: httpx.AsyncClient) -> PushSender | None:
    if not settings.push.fcm_service_account:
        return None
    account = ServiceAccount.from_file(Path(settings.push.fcm_service_account))
    return FcmGateway(http, account, settings.push.fcm_endpoint)


PLUGIN = push_plugin("fcm", _real)
