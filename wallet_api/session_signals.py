"""The "session ended" signal: when a device is revoked, signed out or an account frozen,
every open stream (SSE, WebSocket) of it, on whichever API process, must close.

The signal travels on the account's realtime pub/sub channel (the one notifications' streams
listen on, notifications/realtime.py), so the kernel and accounts can send it without
depending on the notifications domain.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["ended_device", "publish_session_end", "realtime_channel"]

log = logging.getLogger(__name__)


def realtime_channel(account_id: uuid.UUID | str) -> str:
    """The Redis pub/sub channel of an account's open apps."""
    return f"notifications:{account_id}"


async def publish_session_end(redis: aioredis.Redis, account_id: uuid.UUID | str, device_id: str | None = None) -> None:
    """Tell every process to close the streams of ``device_id`` (None: every device of the account).

    Sent after the revocation committed (PostgreSQL holds the truth: a stream that opens
    meanwhile checks it there). Best effort: if Redis loses it, the streams still end at
    their token's expiry, and re-check PostgreSQL when their subscription is restored.
    """
    message = json.dumps({"session_ended": {"device_id": device_id}}).encode()
    try:
        await redis.publish(realtime_channel(account_id), message)
    except (RedisError, OSError) as exc:
        log.warning("session-end signal lost", extra={"error": type(exc).__name__})


def ended_device(message: dict[str, Any]) -> tuple[bool, str | None]:
    """(True, device or None for all) if ``message`` is a session-end signal, else (False, None)."""
    signal = message.get("session_ended")
    if not isinstance(signal, dict):
        return False, None
    device = signal.get("device_id")
    return True, str(device) if device is not None else None
