"""The e-wallet provider simulator as a real server for tests, and fixtures to use it.

Any test package can use it; in its ``conftest.py``::

    from tests.support.provider_sim import provider_registry, provider_sim, provider_sim_server  # noqa: F401

- ``provider_sim_server`` (session): the simulator (``python -m simulators.provider_sim``) in a
  subprocess on a free port, with its own SQLite store in a temporary directory.
- ``provider_sim`` (per test): the same server with faults reset to none; arrange wallets
  with ``provider_sim.add_wallet(...)``, inject faults with ``provider_sim.set_faults(...)``.
- ``provider_registry`` (session): a :class:`ProviderRegistry` whose providers (MoMo,
  ZaloPay, VNPT Money, Viettel Money) all point at that server, in place of the app's own
  (``app.state.services``), so HTTP routes use the simulator; pass it to a worker as
  ``worker_context(..., services={PROVIDERS: provider_registry})`` for consumers.

Outside pytest, :func:`start_provider_sim` is a context manager doing the same.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from litestar import Litestar

from payments.providers.registry import PROVIDERS, ProviderRegistry
from tests.support.ports import free_port
from tests.support.settings import replaced
from wallet_api.settings import Settings

__all__ = [
    "ProviderSim",
    "WebhookCapture",
    "provider_registry",
    "provider_sim",
    "provider_sim_server",
    "start_provider_sim",
    "unique_wallet_account",
]

REPO = Path(__file__).resolve().parents[2]


@dataclass
class ProviderSim:
    """A running simulator: its URL, and the admin calls tests need."""

    url: str
    store: Path
    port: int
    args: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    admin: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10.0))

    def base_url(self, code: str) -> str:
        return f"{self.url}/{code}/v1"

    def settings_for(self, settings: Settings) -> Settings:
        """``settings`` with the development providers pointing at this simulator."""
        return replaced(settings, provider_sim_url=self.url, providers="")

    def _ok(self, r: httpx.Response) -> Any:
        r.raise_for_status()
        return r.json()

    def set_faults(self, provider: str | None = None, **faults: Any) -> dict[str, Any]:
        """Change faults at runtime (fields of simulators.provider_sim.faults.Faults)."""
        body = dict(faults)
        if provider is not None:
            body["provider"] = provider
        return self._ok(self.admin.put(f"{self.url}/_admin/faults", json=body))  # type: ignore[no-any-return]

    def reset_faults(self) -> None:
        self._ok(self.admin.delete(f"{self.url}/_admin/faults"))

    def set_webhook_base_url(self, url: str) -> None:
        self._ok(self.admin.put(f"{self.url}/_admin/config", json={"webhook_base_url": url}))

    def add_wallet(
        self,
        provider: str,
        wallet_account: str,
        owner_person_id: str,
        owner_name: str,
        *,
        status: str = "active",
        txn_limit: int = 100_000_000,
    ) -> dict[str, Any]:
        body = {
            "provider": provider,
            "wallet_account": wallet_account,
            "owner_person_id": owner_person_id,
            "owner_name": owner_name,
            "status": status,
            "txn_limit": txn_limit,
        }
        return self._ok(self.admin.post(f"{self.url}/_admin/wallets", json=body))  # type: ignore[no-any-return]

    def wallets(self, **query: str) -> dict[str, Any]:
        return self._ok(self.admin.get(f"{self.url}/_admin/wallets", params=query))  # type: ignore[no-any-return]

    def otp(self, provider: str, link_id: str) -> str:
        """The consent OTP the wallet owner's phone received for ``link_id``."""
        return str(self._ok(self.admin.get(f"{self.url}/_admin/{provider}/links/{link_id}/otp"))["otp"])

    def webhooks(self, provider: str | None = None, payment_id: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("provider", provider), ("payment_id", payment_id)) if v}
        return self._ok(self.admin.get(f"{self.url}/_admin/webhooks", params=params))["webhooks"]  # type: ignore[no-any-return]

    def stats(self) -> dict[str, int]:
        return self._ok(self.admin.get(f"{self.url}/_admin/stats"))["requests"]  # type: ignore[no-any-return]

    def start(self) -> None:
        log = open(self.store.parent / "provider-sim.log", "ab")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"provider-sim exited with {self.process.returncode}; see {log.name}")
            with contextlib.suppress(httpx.HTTPError):
                if self.admin.get(f"{self.url}/_admin/health", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("provider-sim did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port and store (its data must persist)."""
        self.stop()
        self.start()


@contextlib.contextmanager
def start_provider_sim(
    directory: Path,
    *,
    port: int | None = None,
    extra_args: Sequence[str] = (),
    webhook_base_url: str = "",
    env: dict[str, str] | None = None,
) -> Iterator[ProviderSim]:
    """Run the provider simulator on 127.0.0.1:``port`` (a free one by default) until the block ends."""
    port = port or free_port()
    store = directory / "provider-sim" / "sim.sqlite3"
    store.parent.mkdir(parents=True, exist_ok=True)
    args = [
        sys.executable,
        "-m",
        "simulators.provider_sim",
        "--port",
        str(port),
        "--store",
        str(store),
        "--webhook-base-url",
        webhook_base_url,
        *extra_args,
    ]
    child_env = {
        **os.environ,
        "WALLET_ENV": "test",
        "WALLET_DATA_DIR": str(directory),
        "WALLET_PROVIDERS": "",
        "WALLET_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    sim = ProviderSim(url=f"http://127.0.0.1:{port}", store=store, port=port, args=args, env=child_env)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()
        sim.admin.close()


@pytest.fixture(scope="session")
def provider_sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProviderSim]:
    with start_provider_sim(tmp_path_factory.mktemp("provider-sim")) as sim:
        yield sim


@pytest.fixture
def provider_sim(provider_sim_server: ProviderSim) -> Iterator[ProviderSim]:
    """The session's simulator with no faults; faults a test sets are reset after it."""
    provider_sim_server.reset_faults()
    provider_sim_server.set_webhook_base_url("")
    yield provider_sim_server
    provider_sim_server.reset_faults()


@pytest.fixture(scope="session")
async def provider_registry(
    provider_sim_server: ProviderSim, settings: Settings, redis: aioredis.Redis, app: Litestar
) -> AsyncIterator[ProviderRegistry]:
    """Providers pointing at the simulator, in place of the in-process app's own."""
    registry = ProviderRegistry(provider_sim_server.settings_for(settings), redis)
    own = app.state.services
    app.state.services = own.replaced(services={PROVIDERS: registry})
    yield registry
    app.state.services = own
    await registry.aclose()


def unique_wallet_account() -> str:
    """A phone-like wallet account no other test uses (the simulator's store outlives tests)."""
    return "09" + str(uuid.uuid4().int)[-8:]


@dataclass
class CapturedWebhook:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookCapture:
    """A small HTTP server that records what the simulator's webhooks deliver.

    The app under test runs in-process (no port), so a test points the simulator at this
    server (``provider_sim.set_webhook_base_url(capture.url)``) and relays what arrives to
    the app: ``await client.post(w.path, content=w.body, headers=w.headers)``.
    """

    def __init__(self) -> None:
        self.received: list[CapturedWebhook] = []
        self._lock = threading.Lock()
        capture = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                skip = {"host", "content-length", "connection", "accept", "accept-encoding", "user-agent"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                # The simulator posts to <base>/<code>/payout-events, as the app serves
                # /v1/providers/<code>/payout-events.
                with capture._lock:
                    capture.received.append(CapturedWebhook("/v1/providers" + self.path, headers, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookCapture:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, *, payment_id: str | None = None, timeout: float = 10.0) -> list[CapturedWebhook]:
        """At least ``count`` webhooks (about ``payment_id`` if given), or fewer after ``timeout``.

        The simulator's store outlives tests, so webhooks queued by earlier tests may arrive
        too: filter on the payment.
        """

        def matching() -> list[CapturedWebhook]:
            with self._lock:
                hooks = list(self.received)
            if payment_id is None:
                return hooks
            return [h for h in hooks if json.loads(h.body).get("payment_id") == payment_id]

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = matching()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return matching()
