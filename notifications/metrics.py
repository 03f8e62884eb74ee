"""Prometheus metrics of the notifications domain, per channel (inbox, realtime, fcm, apns, sms)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "DELIVERIES",
    "DELIVERY_SECONDS",
    "NOTICES",
    "REALTIME_CONNECTIONS",
    "REALTIME_MESSAGES",
    "RETENTION_DELETED",
    "TOKENS_GONE",
]

NOTICES = Counter(
    "wallet_notifications_created_total", "Inbox entries created from outbox events, by category", ["category"]
)
DELIVERIES = Counter(
    "wallet_notification_deliveries_total",
    "Deliveries by channel and outcome (sent, retry, dead, skipped)",
    ["channel", "outcome"],
)
DELIVERY_SECONDS = Histogram(
    "wallet_notification_delivery_seconds",
    "Time a gateway took to accept (or refuse) one message, by channel",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TOKENS_GONE = Counter(
    "wallet_notification_tokens_invalidated_total",
    "Destinations a channel's service said are gone (push tokens, e-mail addresses)",
    ["channel"],
)
REALTIME_MESSAGES = Counter(
    "wallet_realtime_messages_total", "Realtime messages by direction (published, sent) and transport", ["direction"]
)
REALTIME_CONNECTIONS = Gauge(
    "wallet_realtime_connections",
    "Open realtime connections by transport (sse, ws)",
    ["transport"],
    multiprocess_mode="livesum",
)
RETENTION_DELETED = Counter(
    "wallet_notifications_deleted_total", "Inbox entries removed by retention, by rule (read, max_age)", ["rule"]
)
