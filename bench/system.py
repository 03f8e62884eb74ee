"""Start the real system for a benchmark: embedded (or external) servers, migrations, API processes.

The API runs in its own processes (``wallet serve``), exactly as in production; the load
generator runs in this process on the same machine, so every figure is "API + PostgreSQL +
Redis + load generator on one 2-core machine".
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.ports import free_port
from wallet_api.settings import Settings

__all__ = ["RunningApi", "api_server", "record", "services"]

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


@contextlib.contextmanager
def services() -> Iterator[Settings]:
    """Settings with URLs of running PostgreSQL and Redis (embedded unless WALLET_* URLs are set)."""
    from wallet_api.cli.runtime import run_async
    from wallet_api.cli.runtime import services as cli_services

    settings = Settings.from_env()
    with cli_services(settings) as s:
        from wallet_api.cli.core import _migrate

        run_async(lambda: _migrate(s.database_url, False))
        yield s


@dataclass
class RunningApi:
    host: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextlib.contextmanager
def api_server(
    settings: Settings,
    *,
    processes: int = 2,
    server: str = "granian",
    extra_env: dict[str, str] | None = None,
    app: str = "wallet_api.app:create_app",
) -> Iterator[RunningApi]:
    port = free_port()
    env = {
        # The metrics listener on any free port unless told: benchmarks may run at once.
        "WALLET_METRICS_ADDRESS": "127.0.0.1:0",
        **os.environ,
        "WALLET_DATABASE_URL": settings.database_url,
        "WALLET_REDIS_URL": settings.redis_url,
        "WALLET_PORT": str(port),
        "WALLET_API_PROCESSES": str(processes),
        "WALLET_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    # The API's own log (JSON, warnings and errors only) is kept beside the results, so
    # that an error status in a benchmark can be traced to its cause.
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = (RESULTS / f"api-{time.strftime('%Y%m%dT%H%M%S')}-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "wallet_api.cli", "serve", "--server", server, "--app", app],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"API ({server}) did not become ready")
            time.sleep(0.2)
        yield RunningApi("127.0.0.1", port, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def record(name: str, data: Any) -> Path:
    """Keep raw results as JSON under bench/results/ (git-ignored) for the docs."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    return path
