"""Prometheus metrics, shared across processes when PROMETHEUS_MULTIPROC_DIR is set.

``wallet serve`` and ``wallet worker`` set that variable to ``WALLET_METRICS_DIR`` before
anything imports ``prometheus_client``, so a scrape of any API process reports the sum of
every process on the machine.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = ["CONTENT_TYPE_LATEST", "HTTP_LATENCY", "HTTP_REQUESTS", "render_metrics"]

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


def render_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()
