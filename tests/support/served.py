"""The app served for real (``wallet serve``, granian) on 127.0.0.1, for clients in other processes.

The browser tests (Chromium) and the interop tests (Node.js wallets and verifiers in
tests/interop) talk to the app over a socket, which the in-process ASGI client has not. The
served app runs against the session's test databases with the test settings' key-encryption
key and public URL, so data arranged through the in-process ``client`` and tokens from
``mint`` are the served app's too, and the URLs it writes (``iss``, status lists, metadata)
are those the in-process app writes.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cli import wallet_environment
from tests.support.ports import free_port
from tests.support.processes import stop_processes
from wallet_api.settings import Settings

__all__ = ["serve"]


@contextlib.contextmanager
def serve(settings: Settings, data_dir: Path, **env: str) -> Iterator[str]:
    """Serve the app in its own process until the block ends; yields its base URL.

    ``env`` adds or overrides ``WALLET_*`` settings of the served process (e.g. a test that
    needs another batch size starts its own)."""
    port = free_port()
    environment = wallet_environment(
        settings,
        data_dir,
        WALLET_KEK=settings.kek,
        WALLET_PUBLIC_BASE_URL=settings.public_base_url,
        WALLET_DB_POOL_MIN="1",
        WALLET_DB_POOL_MAX="5",
        WALLET_METRICS_ADDRESS="127.0.0.1:0",  # any free port: sessions run at once
        **env,
    )
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wallet_api.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "-p", "1"],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # Waits for the app to answer, not a measure of speed: the bound only stops a
        # broken start from hanging the run.
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health/live", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"wallet serve did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        stop_processes([proc], wait=20)


@pytest.fixture(scope="session")
def served_api(settings: Settings, app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the app served for real (after the in-process app made the keys)."""
    with serve(settings, tmp_path_factory.mktemp("served")) as base:
        yield base
