"""CPU time spent by the measured system, per request: a figure that load from other
programs on the machine barely moves, unlike requests per second.

Reads ``/proc`` (Linux only): the API's process tree, and the embedded PostgreSQL and Redis
of this checkout (their command lines name ``.wallet/`` under the repository), each with
its children (PostgreSQL backends).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuMeter", "CpuSample", "processes"]

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command line, CPU seconds so far) for every readable process."""
    out: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[1] is ppid; utime and stime are fields 14 and 15 of stat (11 and 12 here).
        out[int(entry.name)] = (int(fields[1]), cmdline, (int(fields[11]) + int(fields[12])) / _TICK)
    return out


def _tree(procs: dict[int, tuple[int, str, float]], roots: set[int]) -> float:
    members = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _, _) in procs.items():
            if ppid in members and pid not in members:
                members.add(pid)
                grew = True
    return sum(procs[p][2] for p in members if p in procs)


@dataclass(frozen=True)
class CpuSample:
    api: float
    postgres: float
    redis: float


class CpuMeter:
    """Snapshots of CPU seconds used so far by the API, PostgreSQL and Redis."""

    def __init__(self, api_pid: int, data_dir: Path) -> None:
        self.api_pid = api_pid
        self.marker = str(data_dir.resolve())

    def sample(self) -> CpuSample:
        procs = processes()
        pg = {p for p, (_, cmd, _) in procs.items() if self.marker in cmd and "postgres" in cmd}
        rd = {p for p, (_, cmd, _) in procs.items() if self.marker in cmd and "redis-server" in cmd}
        return CpuSample(api=_tree(procs, {self.api_pid}), postgres=_tree(procs, pg), redis=_tree(procs, rd))

    @staticmethod
    def per_request_ms(before: CpuSample, after: CpuSample, requests: int) -> dict[str, float]:
        n = max(requests, 1)
        return {
            "api_cpu_ms": round((after.api - before.api) * 1000 / n, 3),
            "postgres_cpu_ms": round((after.postgres - before.postgres) * 1000 / n, 3),
            "redis_cpu_ms": round((after.redis - before.redis) * 1000 / n, 3),
        }
