"""Payment throughput under provider faults, against the fault-free rate measured in the same run.

One run, one database, the same API, ``wallet worker`` processes and provider simulator
(``python -m simulators.provider_sim``, four providers, webhooks batched by 100) throughout; N residents
with wallets; three batches of N payments one after another, each in its own programme:

1. **fault-free**;
2. **faults**: 5% of payout replies lost after the provider paid (the connection hangs past
   our 10 s time-out), 3% of requests answered 503 before the provider acts;
3. **outage**: once 30% of the batch is paid, the provider goes down for 10 s: a relay in
   front of the simulator cuts every open connection (requests in flight are lost, their
   outcome unknown) and refuses new ones, then lets them through again.

Each batch is timed from its release until every payment has an outcome. Afterwards every
provider's statement is reconciled: every payment paid exactly once (0 duplicated, 0 lost).

    .venv/bin/python -m bench.payment_faults [--beneficiaries 30000] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from bench.payments import (
    AMOUNT,
    csv_chunks,
    disbursement_system,
    reconcile_all,
    tokens,
    transition_summary,
)
from bench.system import REPO, record
from tests.support.ports import free_port
from tests.support.processes import stop_processes
from tests.support.provider_sim import ProviderSim

FAULTS: dict[str, Any] = {"timeout_after_commit_rate": 0.05, "hang_ms": 15_000, "error_rate": 0.03}
OUTAGE_SECONDS = 10.0


async def pay_batch(
    http: httpx.AsyncClient, hdr: dict[str, dict[str, str]], n: int, name: str, on_progress: Any = None
) -> dict[str, Any]:
    """Programme, enrolment of the N residents, batch, approval, release; wait for every outcome."""
    r = await http.post(
        "/v1/programmes/",
        json={"name": f"Trợ cấp ({name})", "legal_basis": "Nghị định 20/2021/NĐ-CP", "budget": n * AMOUNT,
              "schedule": "one_off", "fixed_amount": AMOUNT, "provinces": ["001"]},
        headers=hdr["maker"],
    )  # fmt: skip
    r.raise_for_status()
    programme_id = r.json()["id"]
    r = await http.post(
        f"/v1/programmes/{programme_id}/enrolments",
        content=csv_chunks(n),
        headers={**hdr["maker"], "Content-Type": "text/csv"},
    )
    r.raise_for_status()
    r = await http.post(
        f"/v1/programmes/{programme_id}/batches",
        json={"cycle": "once", "control_count": n, "control_sum": n * AMOUNT},
        headers=hdr["maker"],
    )
    r.raise_for_status()
    batch_id = r.json()["id"]
    r = await http.post(
        f"/v1/batches/{batch_id}/approve",
        json={"control_count": n, "control_sum": n * AMOUNT},
        headers=hdr["checker"],
    )
    r.raise_for_status()
    load_before = os.getloadavg()
    released = time.perf_counter()
    (await http.post(f"/v1/batches/{batch_id}/release", headers=hdr["checker"])).raise_for_status()
    samples: list[tuple[float, int]] = []
    while True:
        r = await http.get(f"/v1/batches/{batch_id}", headers=hdr["checker"])
        by = {p["state"]: p["count"] for p in r.json()["progress"]}
        done = by.get("succeeded", 0) + by.get("failed", 0)
        elapsed = round(time.perf_counter() - released, 1)
        samples.append((elapsed, done))
        if on_progress is not None:
            await on_progress(done)
        if done >= n:
            break
        if elapsed > 900:
            raise RuntimeError(f"{name}: payments did not finish: {by}")
        await asyncio.sleep(0.5)
    seconds = time.perf_counter() - released
    # The longest stretch in which nothing completed.
    stalls = [b[0] - a[0] for a, b in itertools.pairwise(samples) if b[1] == a[1]]
    return {
        "batch_id": batch_id,
        "pay_seconds": round(seconds, 2),
        "payments_per_s": round(n / seconds),
        "longest_stall_seconds": round(max(stalls, default=0.0), 1),
        "final_states": by,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "progress_samples": samples[:: max(1, len(samples) // 40)],
    }


def _progress(phase: str, figures: dict[str, Any]) -> None:
    """Each phase's figures as soon as it ends (the run goes on for minutes)."""
    print(json.dumps({phase: {k: v for k, v in figures.items() if k != "progress_samples"}}), file=sys.stderr)


class Relay:
    """A TCP relay in front of the simulator (where the workers reach the providers) that can
    go down: open connections are cut, new ones refused, as when a provider's service dies."""

    def __init__(self, port: int, target_port: int) -> None:
        self.port, self.target_port = port, target_port
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)

    def down(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._open):
            writer.transport.abort()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            target_reader, target_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, target_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        try:
            await asyncio.gather(pipe(reader, target_writer), pipe(target_reader, writer))
        finally:
            self._open -= {writer, target_writer}


async def phases(
    base: str, hdr: dict[str, dict[str, str]], n: int, sim: ProviderSim, relay_port: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    relay = Relay(relay_port, sim.port)
    await relay.up()
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(1800.0, connect=5.0)) as http:
        out["fault_free"] = await pay_batch(http, hdr, n, "fault-free")
        _progress("fault_free", out["fault_free"])
        sim.set_faults(**FAULTS)
        out["faults"] = await pay_batch(http, hdr, n, "5% lost replies, 3% 5xx")
        _progress("faults", out["faults"])
        sim.reset_faults()
        outage: dict[str, float] = {}

        async def take_down_once(done: int) -> None:
            if "down_at" not in outage and done >= n * 0.3:
                outage["down_at"] = time.perf_counter()
                relay.down()
                await asyncio.sleep(OUTAGE_SECONDS)
                await relay.up()
                outage["down_seconds"] = round(time.perf_counter() - outage["down_at"], 1)

        out["outage"] = await pay_batch(http, hdr, n, "10 s outage", take_down_once)
        out["outage"]["provider_down_seconds"] = outage.get("down_seconds")
    relay.down()
    await asyncio.sleep(0.5)  # the relay's connections end before the loop does
    free = out["fault_free"]
    out["faults_share_of_fault_free_rate"] = round(out["faults"]["payments_per_s"] / free["payments_per_s"], 3)
    out["outage_added_seconds"] = round(out["outage"]["pay_seconds"] - free["pay_seconds"], 1)
    return out


async def exactly_once(url: str) -> dict[str, Any]:
    """Every payment paid once: states, and the statement lines of the reconciliation."""
    conn = await asyncpg.connect(url)
    try:
        states = {r["state"]: r["n"] for r in await conn.fetch("SELECT state, count(*) AS n FROM payments GROUP BY 1")}
        executions = await conn.fetchval(
            "SELECT count(*) FROM reconciliation_lines l JOIN reconciliations r ON r.id = l.reconciliation_id"
            " AND r.superseded_at IS NULL WHERE l.kind = 'payout'"
        )
        unbalanced = await conn.fetchval(
            "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY 1 HAVING sum(amount) <> 0) x"
        )
        accounts = await conn.fetch(
            """SELECT a.kind, coalesce(sum(e.amount), 0)::bigint AS balance FROM ledger_accounts a
               LEFT JOIN ledger_entries e ON e.account_id = a.id
               WHERE a.kind IN ('reserved', 'in_flight') GROUP BY 1"""
        )
    finally:
        await conn.close()
    return {"states": states, "statement_payout_lines": executions, "unbalanced_ledger_transactions": unbalanced,
            "reserved_and_in_flight": {r["kind"]: r["balance"] for r in accounts}}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beneficiaries", type=int, default=30_000, help="payments per batch (three batches)")
    parser.add_argument("--workers", type=int, default=2, help="wallet worker processes")
    parser.add_argument("--api-processes", type=int, default=2)
    args = parser.parse_args()
    n = args.beneficiaries
    if not 1 <= n <= 1_000_000:
        parser.error("--beneficiaries must be from 1 to 1,000,000")
    result: dict[str, Any] = {"args": vars(args), "faults": FAULTS, "outage_seconds": OUTAGE_SECONDS}
    with disbursement_system(n, args.api_processes) as system, contextlib.ExitStack() as stack:
        url, settings, api, child_env = system.url, system.settings, system.api, system.child_env
        # The providers' configured address is the relay's; the simulator listens behind it.
        sim_port = free_port()
        args_ = [
            sys.executable,
            "-m",
            "simulators.provider_sim",
            "--port",
            str(sim_port),
            "--store",
            str(system.store),
            "--webhook-base-url",
            f"{api.url}/v1/providers",
            "--webhook-batch",
            "100",
        ]
        sim = ProviderSim(f"http://127.0.0.1:{sim_port}", system.store, sim_port, args_, child_env)
        stack.callback(sim.stop)
        # Kept for a look afterwards: the simulator's store directory goes with the run.
        stack.callback(shutil.copy, system.store.parent / "provider-sim.log", REPO / "bench" / "results")
        sim.start()
        workers = subprocess.Popen(
            [sys.executable, "-m", "wallet_api.cli", "worker", "--processes", str(args.workers)],
            env=child_env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        stack.callback(stop_processes, [workers])
        hdr = asyncio.run(tokens(url, settings))
        result["started_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        result["load_average_at_start"] = os.getloadavg()
        result.update(asyncio.run(phases(api.url, hdr, n, sim, system.sim_port)))
        result.update(asyncio.run(reconcile_all(url, sim.settings_for(settings))))
        result["exactly_once"] = asyncio.run(exactly_once(url))
        result["transitions"] = asyncio.run(transition_summary(url))
        result["load_average_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    record("payment_faults", result)


if __name__ == "__main__":
    main()
