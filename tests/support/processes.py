"""Child processes (workers, servers) that tests and benchmarks start and must stop."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence

import httpx

__all__ = ["stop_processes", "wait_until_answering"]


def stop_processes(procs: Sequence[subprocess.Popen[bytes]], wait: float = 30.0) -> None:
    """SIGTERM to each, then ``wait`` seconds to finish what they are doing, then SIGKILL."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill()


def wait_until_answering(proc: subprocess.Popen[bytes], url: str, timeout: float = 60.0) -> None:
    """Wait until ``url`` answers 200 from the server ``proc`` started; fail if it exits or never does."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "the server exited"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.2)
