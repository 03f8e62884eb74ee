"""The metrics listener: Prometheus metrics on a loopback address of their own, apart from the API.

Metrics tell whoever reads them every route with its traffic, latencies and error rates, and
the outbox's work: a map of the service for an attacker, and nothing the public needs. So
``/metrics`` is not a route of the public app. ``wallet serve`` starts this listener in a
process of its own beside the API processes, on ``WALLET_METRICS_ADDRESS`` (default
``127.0.0.1:9464``); it reads the multiprocess metrics directory, so one scrape reports the
sum over every API and worker process of the machine that shares it.

A non-loopback address is refused unless ``WALLET_METRICS_ALLOW_NON_LOOPBACK`` is set: in a
container the scraper is on another host and must reach the port, and then the network (a
policy that admits only the scraper) is what keeps the metrics private.

Run as ``python -m wallet_api.observability.listener PARENT_PID``: it prints the address it
listens on once it does, and exits when that parent is gone. ``prometheus_client`` is imported
only inside functions, after the metrics directory is chosen (wallet_api/cli/runtime.py).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
import threading
from typing import Any

__all__ = ["is_loopback", "parse_address", "start_listener"]


def parse_address(text: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6); port 0 takes any free port."""
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r} is not host:port")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Only what certainly stays on this machine: a loopback address or ``localhost``.

    Any other host name could resolve to a public interface, so it counts as not loopback.
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def start_listener(host: str, port: int) -> tuple[Any, threading.Thread]:
    """Serve the metrics on ``host:port`` from a background thread; (server, thread)."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return start_http_server(port, host, registry=registry)


def _main(parent: int) -> None:
    from wallet_api.settings import Settings

    host, port = parse_address(Settings.from_env().metrics_address)
    server, _ = start_listener(host, port)
    print(f"metrics on http://{host}:{server.server_port}/metrics", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    # The parent (wallet serve) stops us when it ends; if it is killed instead, we notice
    # that we were orphaned rather than keep the port.
    while not stop.wait(1.0) and os.getppid() == parent:
        pass
    server.shutdown()


if __name__ == "__main__":
    _main(int(sys.argv[1]))
