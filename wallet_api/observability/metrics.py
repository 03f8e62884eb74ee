"""Prometheus metrics, shared across processes when PROMETHEUS_MULTIPROC_DIR is set.

``wallet serve`` and ``wallet worker`` set that variable to ``WALLET_METRICS_DIR`` before
anything imports ``prometheus_client``, so a scrape of the metrics listener that ``wallet
serve`` starts (wallet_api/observability/listener.py; not the public API) reports the sum of
every process on the machine.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = ["HTTP_LATENCY", "HTTP_REQUESTS", "OUTBOX_EVENTS"]

HTTP_REQUESTS = Counter(
    "wallet_http_requests_total", "HTTP requests by route, method and status", ["route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "wallet_http_request_duration_seconds",
    "HTTP request latency by route and method",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OUTBOX_EVENTS = Counter(
    "wallet_outbox_events_total", "Outbox events handled by consumer and outcome", ["consumer", "outcome"]
)
