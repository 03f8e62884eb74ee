"""Baseline: the ceiling every other benchmark is compared to in the same run.

Measures ``GET /health/live`` (no I/O) and ``GET /health/ready`` (one PostgreSQL and one
Redis round trip) with several connections, and compares the two ASGI servers we could
ship, granian and uvicorn, on the same machine in the same run.

    .venv/bin/python -m bench.baseline [--duration 10] [--connections 64] [--processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

from bench.loadgen import Request, run_load
from bench.system import api_server, record, services


async def measure(host: str, port: int, path: str, connections: int, duration: float, name: str) -> dict[str, object]:
    result = await run_load(
        host, port, lambda _: Request("GET", path), connections=connections, duration=duration, name=name
    )
    return result.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server and path")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--servers", default="granian,uvicorn")
    args = parser.parse_args()
    servers = args.servers.split(",")
    rounds: dict[str, list[dict[str, object]]] = {}
    with services() as settings, contextlib.ExitStack() as stack:
        # Both servers run side by side and are measured in alternation, so that the
        # machine's drifting background load falls on each of them alike.
        apis = {s: stack.enter_context(api_server(settings, processes=args.processes, server=s)) for s in servers}
        for _ in range(args.rounds):
            for path in ("/health/live", "/health/ready"):
                for server, api in apis.items():
                    name = f"{server} {path}"
                    summary = asyncio.run(measure(api.host, api.port, path, args.connections, args.duration, name))
                    rounds.setdefault(name, []).append(summary)
    results = [median_of(name, runs) for name, runs in rounds.items()]
    for r in results:
        print(json.dumps(r))
    record("baseline", {"args": vars(args), "results": results, "rounds": rounds})


def median_of(name: str, runs: list[dict[str, object]]) -> dict[str, object]:
    by_rate = sorted(runs, key=lambda r: float(r["rate_per_s"]))  # type: ignore[arg-type]
    middle = by_rate[len(by_rate) // 2]
    return {**middle, "name": name, "rounds": len(runs), "rates": [r["rate_per_s"] for r in runs]}


if __name__ == "__main__":
    main()
