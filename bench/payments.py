"""Welfare disbursement end to end: upload → approve → paid → reconciled.

Starts a fresh database in the embedded (or external) PostgreSQL, the API (``wallet
serve``), ``wallet worker`` processes and the provider simulator (``python -m simulators.provider_sim``,
four providers); creates N residents with accounts and linked wallets (spread over the four
providers) and the same wallets at the simulator; then, as an agency would, over HTTP:
uploads the enrolment CSV (streamed), creates, approves and releases a batch, waits until
every payment is paid, and reconciles every provider's statement. Prints the time and rate
of each phase and the ``/health/live`` baseline measured in the same run.

    .venv/bin/python -m bench.payments [--beneficiaries 20000] [--workers 2] [--api-processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.cpu import processes
from bench.loadgen import Request, run_load
from bench.system import REPO, RunningApi, api_server, record, services
from tests.support.ports import free_port
from tests.support.processes import stop_processes
from tests.support.servers import fresh_database
from tests.support.settings import replaced
from wallet_api.settings import Settings

PROVIDERS = ("momo", "zalopay", "vnptmoney", "viettelmoney")
AMOUNT = 500_000
ORG = "bench-welfare"


async def populate(url: str, n: int) -> None:
    """N residents of Hà Nội aged 80+, each with a level-2 account and a default wallet."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin, residence_address,
                                       residence_province)
               SELECT '001' || '0' || '40' || lpad(g::text, 6, '0'), 'Nguyễn Văn An', date '1940-05-01', 'male',
                      'Hà Nội', 'Hà Nội', '001'
               FROM generate_series(0, $1 - 1) g""",
            n,
        )
        await conn.execute(
            "INSERT INTO accounts (person_id, phone, level) SELECT person_id, '09' || right(person_id, 8), 2 "
            "FROM population"
        )
        await conn.execute(
            """INSERT INTO wallet_links (account_id, provider, wallet_account, state, is_default, activated_at)
               SELECT a.id, ($1::text[])[1 + (right(a.person_id, 6)::int % 4)], 'b' || a.person_id, 'active', true,
                      now() - interval '10 days'
               FROM accounts a""",
            list(PROVIDERS),
        )
        await conn.execute(
            "INSERT INTO organisations (id, kind, name, provinces) VALUES ($1, 'welfare', 'Bench agency', '{001}')", ORG
        )
        await conn.execute("INSERT INTO organisations (id, kind, name) VALUES ('bench-ops', 'admin', 'Operator')")
    finally:
        await conn.close()


def simulator_store(directory: Path, n: int) -> Path:
    from simulators.provider_sim.store import SimStore, Wallet

    path = directory / "sim.sqlite3"
    store = SimStore(path)
    wallets = (
        Wallet(PROVIDERS[g % 4], f"b0010{40:02d}{g:06d}", f"0010{40:02d}{g:06d}", "NGUYEN VAN AN", "active",
               100_000_000, 0, "owned")
        for g in range(n)
    )  # fmt: skip
    store.insert_wallets_if_absent(wallets)
    return path


async def tokens(url: str, settings: Settings) -> dict[str, dict[str, str]]:
    from wallet_api.auth.principal import Principal
    from wallet_api.auth.tokens import TokenService
    from wallet_api.db import create_pool
    from wallet_api.keys.provider import DatabaseKeyProvider

    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        keys = DatabaseKeyProvider(pool, settings.kek_bytes())
        service = TokenService(keys, issuer=settings.public_base_url, ttl_seconds=3600)
        out = {}
        for name, org, role in (
            ("maker", ORG, "welfare_maker"),
            ("checker", ORG, "welfare_checker"),
            ("operator", "bench-ops", "admin"),
        ):
            principal = Principal(kind="officer", subject=str(uuid.uuid4()), org_id=org, roles=frozenset({role}))
            token, _ = await service.issue(principal)
            out[name] = {"Authorization": f"Bearer {token}"}
        return out
    finally:
        await pool.close()


async def csv_chunks(n: int) -> AsyncIterator[bytes]:
    yield b"person_id,amount,agency_reference\n"
    step = 10_000
    for start in range(0, n, step):
        rows = "".join(f"0010{40:02d}{g:06d},,HN-{g}\n" for g in range(start, min(n, start + step)))
        yield rows.encode()


def _per_item(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    """CPU milliseconds per item by part of the system, between two snapshots."""
    out = {k: round((after[k] - before[k]) * 1000 / n, 3) for k in after}
    out["total"] = round(sum(out.values()), 3)
    return out


async def agency_flow(
    base: str, hdr: dict[str, dict[str, str]], n: int, url: str, cpu: Callable[[], dict[str, float]]
) -> dict[str, Any]:
    timings: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(1800.0, connect=5.0)) as http:
        r = await http.post(
            "/v1/programmes/",
            json={
                "name": "Trợ cấp người cao tuổi (bench)",
                "legal_basis": "Nghị định 20/2021/NĐ-CP",
                "budget": n * AMOUNT,
                "schedule": "one_off",
                "fixed_amount": AMOUNT,
                "provinces": ["001"],
            },
            headers=hdr["maker"],
        )
        r.raise_for_status()
        programme_id = r.json()["id"]
        cpu_before = cpu()
        t = time.perf_counter()
        r = await http.post(
            f"/v1/programmes/{programme_id}/enrolments",
            content=csv_chunks(n),
            headers={**hdr["maker"], "Content-Type": "text/csv"},
        )
        r.raise_for_status()
        upload = time.perf_counter() - t
        assert r.json()["accepted"] == n, r.json()
        timings["load_average_after_upload"] = os.getloadavg()
        timings["upload_cpu_ms_per_row"] = _per_item(cpu_before, cpu(), n)
        timings["upload_seconds"] = round(upload, 2)
        timings["upload_rows_per_s"] = round(n / upload)
        timings["validation_seconds_in_db"] = r.json()["seconds"]

        t = time.perf_counter()
        r = await http.post(
            f"/v1/programmes/{programme_id}/batches",
            json={"cycle": "once", "control_count": n, "control_sum": n * AMOUNT},
            headers=hdr["maker"],
        )
        r.raise_for_status()
        batch_id = r.json()["id"]
        timings["create_batch_seconds"] = round(time.perf_counter() - t, 2)
        r = await http.post(
            f"/v1/batches/{batch_id}/approve",
            json={"control_count": n, "control_sum": n * AMOUNT},
            headers=hdr["checker"],
        )
        r.raise_for_status()
        # Paying starts while the release still resolves later chunks of the batch, so the
        # pay phase is timed from the start of the release, with the dashboard polling
        # throughout; the release's own duration is reported beside it.
        cpu_before = cpu()
        released = time.perf_counter()
        release = asyncio.create_task(http.post(f"/v1/batches/{batch_id}/release", headers=hdr["checker"]))
        release.add_done_callback(
            lambda _: timings.setdefault("release_seconds", round(time.perf_counter() - released, 2))
        )
        samples = []
        while True:
            r = await http.get(f"/v1/batches/{batch_id}", headers=hdr["checker"])
            by = {p["state"]: p["count"] for p in r.json()["progress"]}
            done = by.get("succeeded", 0) + by.get("failed", 0)
            samples.append((round(time.perf_counter() - released, 1), done))
            if release.done():
                release.result().raise_for_status()  # a refused release ends the run now, not after the time-out
            if done >= n:
                break
            if time.perf_counter() - released > 1800:
                raise RuntimeError(f"payments did not finish: {by}")
            # An agency's dashboard polls; counting a million payments by state every second
            # would itself be a load, so larger batches are polled less often.
            await asyncio.sleep(max(1.0, n / 250_000))
        (await release).raise_for_status()
        pay = time.perf_counter() - released
        timings["load_average_after_pay"] = os.getloadavg()
        timings["pay_cpu_ms_per_payment"] = _per_item(cpu_before, cpu(), n)
        timings["pay_seconds"] = round(pay, 2)
        timings["payments_per_s"] = round(n / pay)
        timings["final_states"] = by
        # Sustained rate: from 10% to 90% of the batch.
        t10 = next(s for s, d in samples if d >= n * 0.1)
        t90 = next(s for s, d in samples if d >= n * 0.9)
        timings["payments_per_s_10_to_90"] = round(n * 0.8 / max(t90 - t10, 0.1))
        timings["progress_samples"] = samples[:: max(1, len(samples) // 60)]
    timings["programme_id"] = programme_id
    return timings


async def reconcile_all(url: str, settings: Settings) -> dict[str, Any]:
    import redis.asyncio as aioredis

    from payments.disbursement import reconciliation
    from payments.providers.registry import ProviderRegistry

    conn = await asyncpg.connect(url)
    redis = aioredis.from_url(settings.redis_url)
    registry = ProviderRegistry(settings, redis)
    counts: dict[str, int] = {}
    lines = 0
    t = time.perf_counter()
    try:
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        day = datetime.now(UTC).date()
        fetching = [0.0]

        async def timed(lines: AsyncIterator[Any]) -> AsyncIterator[Any]:
            while True:
                t0 = time.perf_counter()
                try:
                    line = await anext(lines)
                except StopAsyncIteration:
                    return
                finally:
                    fetching[0] += time.perf_counter() - t0
                yield line

        for code in PROVIDERS:
            statement = timed(aiter(registry.get(code).statement(day)))
            out = await reconciliation.reconcile_lines(conn, code, day, statement, "bench")
            lines += out["lines"]
            for k, v in out["counts"].items():
                counts[k] = counts.get(k, 0) + v
    finally:
        await registry.aclose()
        await redis.aclose()
        await conn.close()
    seconds = time.perf_counter() - t
    return {"reconcile_seconds": round(seconds, 2), "statement_fetch_seconds": round(fetching[0], 2),
            "statement_lines": lines,
            "reconcile_lines_per_s": round(lines / seconds), "reconciliation": counts}  # fmt: skip


def cpu_seconds(roots: dict[str, int], data_dir: Path, database: str) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each part of the system (Linux /proc).

    ``roots`` names process trees (API, workers, simulator) by their root pid; PostgreSQL
    is split into the backends serving this run's database and the server's background
    processes (WAL writer, checkpointer, autovacuum); Redis is the embedded server.
    """
    procs = processes()
    try:
        postmaster = int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        postmaster = -1
    out = dict.fromkeys([*roots, "postgres_backends", "postgres_background", "redis"], 0.0)
    for pid, (ppid, cmd, cpu) in procs.items():
        if ppid == postmaster:
            out["postgres_backends" if f" {database} " in cmd else "postgres_background"] += cpu
            continue
        if "redis-server" in cmd and str(data_dir.resolve()) in cmd:
            out["redis"] += cpu
            continue
        p = pid
        while p in procs and p > 1:
            name = next((n for n, root in roots.items() if root == p), None)
            if name is not None:
                out[name] += cpu
                break
            p = procs[p][0]
    return {k: round(v, 2) for k, v in out.items()}


async def transition_summary(url: str) -> list[str]:
    """How the payments moved (a retry or a status query shows up here), for the record."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """SELECT coalesce(from_state, '-') || '>' || to_state || ' ' || coalesce(reason, '') AS move,
                      count(*) AS n
               FROM payment_transitions GROUP BY 1 ORDER BY 2 DESC"""
        )
    finally:
        await conn.close()
    return [f"{r['move'].strip()}: {r['n']}" for r in rows]


@dataclass
class DisbursementSystem:
    """A fresh database with N residents and their wallets, the simulator's store, and the API."""

    base: Settings
    url: str
    settings: Settings
    api: RunningApi
    #: The environment for the simulator and worker processes of this run.
    child_env: dict[str, str]
    store: Path
    sim_port: int


@contextlib.contextmanager
def disbursement_system(n: int, api_processes: int) -> Iterator[DisbursementSystem]:
    with services() as base, fresh_database(base.database_url, "wallet_bench") as url, contextlib.ExitStack() as stack:
        asyncio.run(populate(url, n))
        sim_dir = Path(base.data_dir).resolve() / f"bench-sim-{uuid.uuid4().hex[:6]}"
        sim_dir.mkdir(parents=True)
        stack.callback(shutil.rmtree, sim_dir, True)  # the simulator's store of this run only
        store = simulator_store(sim_dir, n)
        sim_port = free_port()
        # The simulator's URL is a section's setting, so by its variable's name (from_env takes kernel fields only).
        settings = replaced(
            Settings.from_env(database_url=url, redis_url=base.redis_url),
            provider_sim_url=f"http://127.0.0.1:{sim_port}",
        )
        env = {
            "WALLET_DATABASE_URL": url,
            "WALLET_REDIS_URL": base.redis_url,
            "WALLET_PROVIDER_SIM_URL": settings.providers.sim_url,
            "WALLET_PROVIDERS": "",
            "WALLET_LOG_LEVEL": "WARNING",
            "WALLET_ACCESS_TOKEN_TTL_SECONDS": "3600",
        }
        api = stack.enter_context(api_server(settings, processes=api_processes, extra_env=env))
        yield DisbursementSystem(base, url, settings, api, {**os.environ, **env}, store, sim_port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beneficiaries", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2, help="wallet worker processes")
    parser.add_argument("--api-processes", type=int, default=2)
    parser.add_argument(
        "--webhook-batch", type=int, default=100, help="payout events per simulator webhook request (1: one each)"
    )
    args = parser.parse_args()
    n = args.beneficiaries
    if not 1 <= n <= 1_000_000:
        parser.error("--beneficiaries must be from 1 to 1,000,000 (six serial digits of the ID numbers)")
    result: dict[str, Any] = {"args": vars(args)}
    with disbursement_system(n, args.api_processes) as system, contextlib.ExitStack() as stack:
        base, url, settings, api, child_env = system.base, system.url, system.settings, system.api, system.child_env
        store, sim_port = system.store, system.sim_port
        procs: list[subprocess.Popen[bytes]] = []
        stack.callback(stop_processes, procs)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "simulators.provider_sim", "--port", str(sim_port), "--store",
                 str(store), "--webhook-base-url", f"{api.url}/v1/providers",
                 "--webhook-batch", str(args.webhook_batch)],
                env=child_env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{sim_port}/_admin/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("provider-sim did not start")
            time.sleep(0.2)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "wallet_api.cli", "worker", "--processes", str(args.workers)],
                env=child_env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        baseline = asyncio.run(
            run_load(api.host, api.port, lambda _: Request("GET", "/health/live"), connections=32, duration=5,
                     name="baseline /health/live")
        ).summary()  # fmt: skip
        result["baseline"] = baseline
        hdr = asyncio.run(tokens(url, settings))
        result["load_average_at_start"] = os.getloadavg()
        result["started_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        started = time.perf_counter()
        roots = {"api": api.process.pid, "simulator": procs[0].pid, "workers": procs[1].pid}
        database = url.partition("?")[0].rpartition("/")[2]
        data_dir = Path(base.data_dir)
        result.update(asyncio.run(agency_flow(api.url, hdr, n, url, lambda: cpu_seconds(roots, data_dir, database))))
        result.update(asyncio.run(reconcile_all(url, settings)))
        result["transitions"] = asyncio.run(transition_summary(url))
        result["end_to_end_seconds"] = round(time.perf_counter() - started, 2)
        result["load_average_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    record("payments", result)


if __name__ == "__main__":
    main()
