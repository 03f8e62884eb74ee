"""Push to Apple devices through the Apple Push Notification service (HTTP/2, ``http.py``).

Configured by ``WALLET_PUSH_APNS_KEY_FILE`` and its key id, team id and topic; without them
development and tests use the local push box (``notifications.channels.push.read_dev_push``).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from notifications.channels.apns.http import ApnsGateway
from notifications.channels.push import PushSender, push_plugin
from wallet_api.kernel import Settings

__all__ = ["PLUGIN"]


def _real(settings: Settings, http: httpx.AsyncClient) -> PushSender | None:
    if not settings.push.apns_key_file:
        return None
    # APNs speaks only HTTP/2: the adapter owns its own client (closed with the channel).
    return ApnsGateway(
        key_pem=Path(settings.push.apns_key_file).read_text(encoding="utf-8"),
        key_id=settings.push.apns_key_id,
        team_id=settings.push.apns_team_id,
        topic=settings.push.apns_topic,
        endpoint=settings.push.apns_endpoint,
    )


PLUGIN = push_plugin("apns", _real)
