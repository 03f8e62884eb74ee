"""Metrics are served apart from the public API (issue 14, item 6): ``/metrics`` is not a
route of the public app; ``wallet serve`` starts a listener on a loopback address of its own
that reports the API processes' counts, and refuses a non-loopback address unless allowed."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cli import wallet_environment
from tests.support.ports import free_port
from tests.support.processes import stop_processes, wait_until_answering
from wallet_api.settings import Settings

LIVE_COUNT = re.compile(r'^wallet_http_requests_total\{method="GET",route="/health/live",status="200"\} (\S+)$', re.M)


def _env(settings: Settings, data: Path, **extra: str) -> dict[str, str]:
    return wallet_environment(
        settings,
        data,
        WALLET_KEK=settings.kek,
        WALLET_METRICS_DIR=str(data / "metrics"),
        WALLET_DB_POOL_MIN="1",
        WALLET_DB_POOL_MAX="3",
        WALLET_LOG_LEVEL="WARNING",
        **extra,
    )


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "wallet_api.cli", "serve", "--port", str(port), "--processes", "2"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _refused(env: dict[str, str]) -> str:
    """``wallet serve`` must stop at start: its error output (it is stopped if it serves)."""
    proc = _serve(env, free_port())
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        stop_processes([proc])
        pytest.fail("wallet serve started instead of refusing")
    assert proc.returncode != 0
    return err.decode()


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """``wallet serve`` with two API processes: (API URL, metrics URL, the process)."""
    port, metrics_port = free_port(), free_port()
    proc = _serve(_env(settings, tmp_path, WALLET_METRICS_ADDRESS=f"127.0.0.1:{metrics_port}"), port)
    api = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(proc, f"{api}/health/ready")
        yield api, f"http://127.0.0.1:{metrics_port}/metrics", proc
    finally:
        stop_processes([proc])


async def test_the_public_app_does_not_serve_metrics(client: httpx.AsyncClient) -> None:
    r = await client.get("/metrics")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/not-found")
    assert "/metrics" not in (await client.get("/schema/openapi.json")).json()["paths"]


def test_wallet_serve_reports_its_api_processes_on_the_loopback_listener(
    served: tuple[str, str, subprocess.Popen[bytes]],
) -> None:
    api, metrics, proc = served
    with httpx.Client() as http:
        for _ in range(12):
            assert http.get(f"{api}/health/live").status_code == 200
        public = http.get(f"{api}/metrics")
        assert public.status_code == 404 and public.json()["type"].endswith("/not-found")
        body = http.get(metrics).text
    # The listener is a process apart from the API processes: what it reports is their count.
    assert [float(v) for v in LIVE_COUNT.findall(body)] == [12.0]
    assert 'wallet_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in body
    # It ends with the API.
    stop_processes([proc])
    with pytest.raises(httpx.ConnectError):
        httpx.get(metrics, timeout=2)


def test_a_non_loopback_metrics_address_is_refused_unless_allowed(settings: Settings, tmp_path: Path) -> None:
    err = _refused(_env(settings, tmp_path, WALLET_METRICS_ADDRESS="0.0.0.0:9464"))
    assert "WALLET_METRICS_ALLOW_NON_LOOPBACK" in err
    allowed = {"WALLET_METRICS_ADDRESS": "0.0.0.0:9464", "WALLET_METRICS_ALLOW_NON_LOOPBACK": "1"}
    assert Settings.from_env(allowed).metrics_address == "0.0.0.0:9464"


def test_serve_stops_when_the_metrics_port_is_taken(settings: Settings, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        err = _refused(_env(settings, tmp_path, WALLET_METRICS_ADDRESS=f"127.0.0.1:{busy}"))
    assert f"could not listen on 127.0.0.1:{busy}" in err
