"""`wallet dev` (what `make run` calls): starts everything, stops everything on Ctrl-C, keeps data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.support.ports import free_port

pytestmark = pytest.mark.slow


def start_dev(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WALLET_DATABASE_URL", "WALLET_REDIS_URL")}
    env.update(
        {
            "WALLET_DATA_DIR": str(data_dir),
            "WALLET_PORT": str(port),
            "WALLET_SEED_CITIZENS": "50",
            "WALLET_PROVIDER_SIM_URL": f"http://127.0.0.1:{free_port()}",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "wallet_api.cli", "dev"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_ready(port: int, proc: subprocess.Popen[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("wallet dev did not become ready")


def _alive(p: psutil.Process) -> bool:
    try:
        return bool(p.is_running() and p.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def processes_under(data_dir: Path) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if str(data_dir) in " ".join(p.info["cmdline"] or []):
                found.append(p)
        except psutil.Error:
            continue
    return found


def test_ctrl_c_stops_everything_and_the_next_start_reuses_the_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "wallet-data"
    port = free_port()
    proc = start_dev(data_dir, port)
    try:
        wait_ready(port, proc)
        children = psutil.Process(proc.pid).children(recursive=True)
        # provider simulator, API server (+ its processes) and the worker process
        assert len(children) >= 4
        # Leave a mark in the database that must survive the restart.
        marker = subprocess.run(
            [sys.executable, "-m", "wallet_api.cli", "keys", "rotate", "lifecycle-test"],
            env={**os.environ, "WALLET_DATA_DIR": str(data_dir)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert marker.returncode == 0, marker.stderr
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0, out
        assert "stopping PostgreSQL and Redis" in out
        # Everything is gone soon after (a loaded machine may take a few seconds to reap).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            leftovers = [p for p in children if _alive(p)] + [p for p in processes_under(data_dir) if _alive(p)]
            if not leftovers:
                break
            time.sleep(0.5)
        assert leftovers == []
    finally:
        if proc.poll() is None:
            proc.kill()

    # Second start: same data directory, the key created before is still there.
    proc = start_dev(data_dir, port)
    try:
        wait_ready(port, proc)
        import json

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/jwks.json", timeout=5) as r:
            assert r.status == 200
            kids = json.loads(r.read())["keys"]
        assert kids  # the rotated key from the first run is still published
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=180)
