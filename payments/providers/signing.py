"""Webhook signatures: HMAC-SHA256 over the timestamp and the raw body.

A provider signs ``f"{t}.{body}"`` with the webhook secret it shares with us and sends
``Wallet-Signature: t=<unix seconds>,v1=<hex>`` (several ``v1=`` during a secret rotation).
The receiver (``POST /v1/providers/{code}/payout-events``, payments/disbursement) refuses a
signature that does not verify or a timestamp outside the tolerance (an old request
replayed later), and ignores a repeated event id.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["SIGNATURE_HEADER", "WebhookSignatureError", "sign_webhook", "verify_webhook"]

SIGNATURE_HEADER = "Wallet-Signature"
#: How far a webhook's timestamp may be from the receiver's clock, in seconds.
DEFAULT_TOLERANCE = 300


class WebhookSignatureError(Exception):
    """The webhook is not from the provider, or is too old: refuse it."""


def _mac(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign_webhook(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The signature header a provider sends with ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {SIGNATURE_HEADER: f"t={ts},v1={_mac(secret, ts, body)}"}


def verify_webhook(
    secret: str, body: bytes, header: str | None, *, now: float | None = None, tolerance: int = DEFAULT_TOLERANCE
) -> None:
    """Raise :class:`WebhookSignatureError` unless ``header`` signs ``body`` recently enough."""
    parts = [p.strip().partition("=") for p in (header or "").split(",")]
    timestamps = [v for k, sep, v in parts if sep and k == "t"]
    macs = [v for k, sep, v in parts if sep and k == "v1"]
    if len(timestamps) != 1 or not macs:
        raise WebhookSignatureError("missing or malformed signature header")
    try:
        ts = int(timestamps[0])
    except ValueError as exc:
        raise WebhookSignatureError("timestamp is not an integer") from exc
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        raise WebhookSignatureError("timestamp outside tolerance")
    expected = _mac(secret, timestamps[0], body)
    if not any(hmac.compare_digest(expected, m) for m in macs):
        raise WebhookSignatureError("signature does not match")
