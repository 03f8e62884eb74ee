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
import re
import time

__all__ = ["SIGNATURE_HEADER", "WebhookSignatureError", "sign_webhook", "verify_webhook"]

SIGNATURE_HEADER = "Wallet-Signature"
#: How far a webhook's timestamp may be from the receiver's clock, in seconds.
DEFAULT_TOLERANCE = 300

_HEX_MAC = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


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
    # Anything but a lowercase hex SHA-256 cannot match; comparing it would also fail on
    # non-ASCII text (compare_digest refuses it) rather than simply not match.
    macs = [v for k, sep, v in parts if sep and k == "v1" and _HEX_MAC.fullmatch(v)]
    if len(timestamps) != 1 or not macs:
        raise WebhookSignatureError("missing or malformed signature header")
    if not _TIMESTAMP.fullmatch(timestamps[0]):
        raise WebhookSignatureError("timestamp is not unix seconds")
    # Whole seconds on both sides: a timestamp too large for a float must not raise.
    current = int(time.time() if now is None else now)
    if abs(current - int(timestamps[0])) > tolerance:
        raise WebhookSignatureError("timestamp outside tolerance")
    expected = _mac(secret, timestamps[0], body)
    if not any(hmac.compare_digest(expected, m) for m in macs):
        raise WebhookSignatureError("signature does not match")
