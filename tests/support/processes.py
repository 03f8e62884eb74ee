"""Child processes (workers, servers) that tests and benchmarks start and must stop."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence

__all__ = ["stop_processes"]


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
