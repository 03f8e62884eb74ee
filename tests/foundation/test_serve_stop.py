"""``wallet serve`` always ends when asked to stop, and leaves no API process behind: one whose
shutdown does not finish within ``WALLET_API_STOP_SECONDS`` is killed (granian would otherwise
join it forever, and a killed ``wallet serve`` would leave it holding the port)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.cli import wallet_environment
from tests.support.ports import free_port
from tests.support.processes import stop_processes, wait_until_answering
from wallet_api.settings import Settings


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_a_worker_whose_shutdown_hangs_is_killed_and_serve_ends(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = wallet_environment(
        settings,
        tmp_path,
        WALLET_KEK=settings.kek,
        WALLET_METRICS_DIR=str(tmp_path / "metrics"),
        WALLET_METRICS_ADDRESS=f"127.0.0.1:{free_port()}",
        WALLET_API_STOP_SECONDS="2",
        WALLET_LOG_LEVEL="WARNING",
    )
    cmd = [sys.executable, "-m", "wallet_api.cli", "serve", "--port", str(port), "--processes", "2"]
    cmd += ["--app", "tests.support.stuck_app:create_app"]
    proc = subprocess.Popen(cmd, env=env, cwd=os.getcwd(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_answering(proc, f"http://127.0.0.1:{port}/health/live")
        children = _descendants(proc.pid)
        assert len(children) >= 3  # two API processes and the metrics listener
        proc.send_signal(signal.SIGTERM)
        # Bounded by the stop seconds; the generous wait is for a loaded machine, not a speed check.
        proc.wait(60)
        assert proc.returncode is not None
        assert not [pid for pid in children if _alive(pid)]
    finally:
        stop_processes([proc])
