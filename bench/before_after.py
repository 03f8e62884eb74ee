"""Two checkouts compared in one run: sign-in, online and offline verification, payouts.

Each checkout (a git worktree with its own ``.venv``) runs its *own* benchmark scripts, so
each side is measured with the code, migrations and fixtures of its commit. The runs
alternate — before, after, then after, before in the next round — so that whatever else
loads the shared machine falls on both sides alike, and every figure comes with the
``/health/live`` baseline measured in the same script run: compare shares of the
baseline and CPU per operation, which drift far less than raw rates.

    .venv/bin/python -m bench.before_after --before ../wt/base --after . [--rounds 2]
        [--duration 8] [--beneficiaries 10000] [--only signin,verify,payouts,signin-app]

A round runs ``bench.signin`` (one baseline + one sign-in load), ``bench.verify``
(baseline, online codes, offline payloads), ``bench.payments`` (a disbursement of 10,000
payouts end to end) and ``bench/signin_inprocess.py`` (the app's own CPU per sign-in without
an HTTP server: this runner's file, run with each side's code, since older checkouts lack
it) on each side: about 4.5 minutes a round on the 2-core machine, so the default two
rounds take 9 and fewer benchmarks (``--only``) leave room for three. A run that fails or times out is
reported as missing (its output is kept under ``bench/results/``); the others still count.
Prints a Markdown table for docs/benchmarks.md (medians over the rounds, and the change of
each figure) and keeps every raw figure as JSON. "Within 10 %" is judged on the share of
the baseline and on the CPU per operation (either within 10 % of before): raw rates follow
the machine's other load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.system import RESULTS, record

HERE = Path(__file__).resolve().parent

#: What each script measures, and how to read one figure out of its output lines.
Reading = Callable[[list[dict[str, Any]]], "Figure | None"]


@dataclass(frozen=True)
class Figure:
    """One measured operation: its rate, its run's baseline rate and the CPU it cost."""

    rate: float
    baseline: float | None  # None: measured without a server
    cpu_ms: float | None  # whole machine (API + PostgreSQL + Redis + load generator) per operation
    api_cpu_ms: float | None

    @property
    def share(self) -> float | None:
        return self.rate / self.baseline if self.baseline else None


@dataclass
class Side:
    name: str
    checkout: Path
    figures: dict[str, list[Figure]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def python(self) -> str:
        return str(self.checkout / ".venv" / "bin" / "python")


def _named(lines: list[dict[str, Any]], prefix: str) -> dict[str, Any] | None:
    return next((line for line in lines if str(line.get("name", "")).startswith(prefix)), None)


def _sign_in(lines: list[dict[str, Any]]) -> Figure | None:
    baseline, run = _named(lines, "baseline"), _named(lines, "device sign-in")
    if baseline is None or run is None or run.get("errors"):
        return None
    cpu = run.get("cpu_ms_per_sign_in") or {}
    return Figure(run["rate_per_s"], baseline["rate_per_s"], cpu.get("total_cpu_ms"), cpu.get("api_cpu_ms"))


def _verification(prefix: str) -> Reading:
    def read(lines: list[dict[str, Any]]) -> Figure | None:
        baseline, run = _named(lines, "baseline"), _named(lines, prefix)
        if baseline is None or run is None or run.get("errors"):
            return None
        parts = ("api_cpu_ms", "postgres_cpu_ms", "redis_cpu_ms", "loadgen_cpu_ms")
        cpu = sum(float(run.get(p) or 0) for p in parts) if "api_cpu_ms" in run else None
        return Figure(run["rate_per_s"], baseline["rate_per_s"], cpu, run.get("api_cpu_ms"))

    return read


def _payouts(lines: list[dict[str, Any]]) -> Figure | None:
    result = lines[-1] if lines else {}
    if "payments_per_s" not in result or "baseline" not in result:
        return None
    cpu = result.get("pay_cpu_ms_per_payment") or {}
    total = cpu.get("total", sum(float(v) for v in cpu.values())) if cpu else None
    return Figure(result["payments_per_s"], result["baseline"]["rate_per_s"], total, cpu.get("api"))


def _app_sign_in(lines: list[dict[str, Any]]) -> Figure | None:
    run = _named(lines, "device sign-in in process")
    if run is None:
        return None
    cpu = float(run["app_cpu_ms_per_sign_in"])
    return Figure(1000 / cpu, None, cpu, cpu)  # no server, no baseline: sign-ins per CPU-second


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    arguments: Callable[[argparse.Namespace], list[str]]
    readings: dict[str, Reading]
    timeout: float
    #: Run this runner's own file with each side's code (for a script older checkouts lack).
    own_file: bool = False


BENCHMARKS = {
    "signin": Benchmark(
        "signin",
        "bench.signin",
        lambda a: ["--duration", str(a.duration), "--connections", "64", "--devices", "2000", "--rounds", "1"],
        {"device sign-in": _sign_in},
        180,
    ),
    "verify": Benchmark(
        "verify",
        "bench.verify",
        # Enough codes for 8 s at 5,000/s and the warm-up: a code used twice is answered 409.
        lambda a: ["--duration", str(a.duration), "--codes", str(max(30_000, int(a.duration * 6_000)))],
        {
            "online verification": _verification("online"),
            "offline verification": _verification("offline"),
        },
        240,
    ),
    "signin-app": Benchmark(
        "signin-app",
        "bench.signin_inprocess",
        lambda a: ["--sign-ins", "4000"],
        {"device sign-in, app CPU in process": _app_sign_in},
        180,
        own_file=True,
    ),
    "payouts": Benchmark(
        "payouts",
        "bench.payments",
        lambda a: ["--beneficiaries", str(a.beneficiaries)],
        {"payouts": _payouts},
        420,
    ),
}


def _json_lines(text: str) -> list[dict[str, Any]]:
    """Every JSON object a script printed: one per line, or (bench.payments) one indented at the end."""
    found: list[dict[str, Any]] = []
    for line in text.splitlines():
        if line.startswith("{") and line.endswith("}"):
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
    start = text.rfind("\n{\n")
    if start >= 0 or text.startswith("{\n"):
        with contextlib.suppress(ValueError):
            found.append(json.loads(text[start + 1 if start >= 0 else 0 :]))
    return found


def run_once(side: Side, bench: Benchmark, args: argparse.Namespace, log: Path) -> None:
    """Run one benchmark script in ``side``'s checkout with its own interpreter; keep its figures."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("WALLET_")
    }
    command = [side.python, "-m", bench.module, *bench.arguments(args)]
    if bench.own_file:
        # The file is ours; ``bench`` and the app are the side's (its checkout first on the path).
        path = str(HERE / f"{bench.module.rpartition('.')[2]}.py")
        argv = [path, *bench.arguments(args)]
        run = f"import runpy, sys; sys.argv = {argv!r}; runpy.run_path({path!r}, run_name='__main__')"
        command = [side.python, "-c", run]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=side.checkout, env=env, capture_output=True, text=True, timeout=bench.timeout, check=False
        )
        output, failed = done.stdout, done.returncode != 0
        errors = done.stderr
    except subprocess.TimeoutExpired as exc:
        output, failed = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or ""), True
        errors = f"timed out after {bench.timeout:.0f} s"
    with log.open("a") as f:
        f.write(
            f"== {side.name} {' '.join(command)} ({time.monotonic() - started:.0f} s)\n{output}\n{errors[-4000:]}\n"
        )
    lines = _json_lines(output)
    for name, read in bench.readings.items():
        figure = None if failed else read(lines)
        if figure is None:
            side.failures.append(f"{name} ({'failed' if failed else 'no figure'}; see {log.name})")
        else:
            side.figures.setdefault(name, []).append(figure)
    print(
        f"  {side.name:6} {bench.name:8} {time.monotonic() - started:5.0f} s  load {os.getloadavg()[0]:.1f}", flush=True
    )


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _change(before: float | None, after: float | None) -> str:
    if before is None or after is None or not before:
        return "—"
    return f"{(after / before - 1) * 100:+.1f} %"


def table(before: Side, after: Side, names: list[str]) -> str:
    """Markdown: per operation, medians of both sides and the change (rate, share of baseline, CPU)."""
    rows = [
        "| operation | side | rounds | rate/s (median) | baseline req/s | share of baseline | CPU ms per op (API) |",
        "|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for name in names:
        medians = {}
        for side in (before, after):
            figures = side.figures.get(name, [])
            m = {
                "rate": _median([f.rate for f in figures]),
                "baseline": _median([f.baseline for f in figures]),
                "share": _median([f.share for f in figures]),
                "cpu": _median([f.cpu_ms for f in figures]),
                "api": _median([f.api_cpu_ms for f in figures]),
            }
            medians[side.name] = m
            rows.append(
                f"| {name} | {side.name} | {len(figures)} | {_fmt(m['rate'], 0)} | {_fmt(m['baseline'], 0)} "
                f"| {_fmt(m['share'], 3)} | {_fmt(m['cpu'], 3)} ({_fmt(m['api'], 3)}) |"
            )
        b, a = medians[before.name], medians[after.name]
        rows.append(
            f"| {name} | change | | {_change(b['rate'], a['rate'])} | {_change(b['baseline'], a['baseline'])} "
            f"| {_change(b['share'], a['share'])} | {_change(b['cpu'], a['cpu'])} ({_change(b['api'], a['api'])}) |"
        )
        verdicts.append(_verdict(name, b, a))
    return "\n".join([*rows, "", *verdicts])


def _verdict(name: str, b: dict[str, float | None], a: dict[str, float | None]) -> str:
    """Within 10 %: a share of the baseline at most 10 % lower, or a CPU per operation at most 10 % higher."""
    share = a["share"] / b["share"] - 1 if a["share"] and b["share"] else None
    cpu = a["cpu"] / b["cpu"] - 1 if a["cpu"] and b["cpu"] else None
    if share is None and cpu is None:
        return f"- {name}: not measured on both sides"
    ok = (share is not None and share >= -0.10) or (cpu is not None and cpu <= 0.10)
    parts = [
        f"share of baseline {share * 100:+.1f} %" if share is not None else "",
        f"CPU per op {cpu * 100:+.1f} %" if cpu is not None else "",
    ]
    return f"- {name}: {'within' if ok else 'NOT within'} 10 % ({', '.join(p for p in parts if p)})"


def _fmt(value: float | None, digits: int) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="checkout measured as 'before' (with its .venv)")
    parser.add_argument("--after", type=Path, required=True, help="checkout measured as 'after' (with its .venv)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of each load (and of each baseline)")
    parser.add_argument("--beneficiaries", type=int, default=10_000, help="payouts per disbursement run")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated, of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    chosen = [BENCHMARKS[n.strip()] for n in args.only.split(",") if n.strip()]
    sides = [Side("before", args.before.resolve()), Side("after", args.after.resolve())]
    for side in sides:
        if not Path(side.python).exists():
            parser.error(f"{side.checkout} has no .venv (run `make .venv/.installed` there)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / f"before_after-{time.strftime('%Y%m%dT%H%M%S')}.log"
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = os.getloadavg()[0]
    for round_no in range(1, args.rounds + 1):
        order = sides if round_no % 2 else sides[::-1]
        print(f"round {round_no}: {' then '.join(s.name for s in order)}", flush=True)
        for bench in chosen:
            for side in order:
                run_once(side, bench, args, log)
    names = [name for bench in chosen for name in bench.readings]
    heads = {s.name: _commit(s.checkout) for s in sides}
    print(
        f"\n{started}, {args.rounds} alternating rounds of {args.duration:g} s loads; before = {heads['before']} "
        f"({sides[0].checkout}), after = {heads['after']} ({sides[1].checkout}); load average "
        f"{load_start:.1f} → {os.getloadavg()[0]:.1f}\n"
    )
    print(table(sides[0], sides[1], names))
    for side in sides:
        for failure in side.failures:
            print(f"- missing, {side.name}: {failure}")
    record(
        "before_after",
        {
            "args": {k: str(v) for k, v in vars(args).items()},
            "commits": heads,
            "figures": {s.name: {n: [f.__dict__ for f in fs] for n, fs in s.figures.items()} for s in sides},
            "failures": {s.name: s.failures for s in sides},
        },
    )


def _commit(checkout: Path) -> str:
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "?"


if __name__ == "__main__":
    main()
