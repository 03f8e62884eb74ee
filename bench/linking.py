"""Wallet linking under a surge: requests accepted per second, and links completed end to end.

Starts the real system (embedded PostgreSQL and Redis, ``wallet serve``, one ``wallet
worker``) and the provider simulator (``python -m simulators.provider_sim``) with 200 ms
latency, creates level-2 citizens whose wallets exist at the simulated providers, then:

1. baseline: ``GET /health/live``;
2. accepted/s: citizens ``POST /v1/me/wallet-links`` as fast as the API takes them (202);
3. completions/s: acting as the citizens' phones, the script reads each consent OTP from the
   simulator and submits it as soon as a link awaits one; it measures from the first
   request until every accepted link is active (or the deadline).

    .venv/bin/python -m bench.linking [--citizens 3000] [--duration 8] [--latency-ms 200]
                                       [--provider-rate 50] [--connections 32] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.loadgen import Request, run_load
from bench.system import api_server, record, services
from payments.providers.config import development_configs
from simulators.provider_sim.store import SimStore, Wallet
from tests.support.ports import free_port
from tests.support.provider_sim import start_provider_sim
from wallet_api.settings import Settings

_CODES = ("momo", "zalopay", "vnptmoney", "viettelmoney")


def _providers_json(sim_url: str, rate: float) -> str:
    configs = []
    for c in development_configs(sim_url):
        entry = {k: getattr(c, k) for k in ("code", "name", "base_url", "api_key", "webhook_secret")}
        configs.append({**entry, "rate_limit_per_second": rate, "burst": max(1, int(rate))})
    return json.dumps(configs)


@contextlib.contextmanager
def _worker(env: dict[str, str], processes: int) -> Iterator[None]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wallet_api.cli", "worker", "--processes", str(processes)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(2.0)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            proc.kill()


async def _citizens(settings: Settings, n: int) -> list[tuple[str, str, str, str]]:
    """(person_id, account_id, token, wallet_account) for ``n`` level-2 citizens."""
    from wallet_api.auth.principal import Principal
    from wallet_api.auth.tokens import TokenService
    from wallet_api.db import create_pool
    from wallet_api.keys.provider import DatabaseKeyProvider

    pool = await create_pool(settings.database_url, min_size=1, max_size=4)
    try:
        run = uuid.uuid4().int % 10_000
        rows = []
        for i in range(n):
            person_id = f"0791{85}{(run * 100 + i) % 1_000_000:06d}"
            rows.append((person_id, f"Lê Thị Bench {i:05d}", f"09{(run * 10_000 + i) % 100_000_000:08d}"))
        await pool.executemany(
            """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin,
                                       residence_address, residence_province)
               VALUES ($1, $2, '1985-01-01', 'female', 'TP Hồ Chí Minh', 'TP Hồ Chí Minh', '079')
               ON CONFLICT (person_id) DO UPDATE SET full_name = EXCLUDED.full_name""",
            [(p, name) for p, name, _ in rows],
        )
        ids = await pool.fetch(
            """INSERT INTO accounts (person_id, phone, level)
               SELECT p, w, 2 FROM unnest($1::text[], $2::text[]) AS t(p, w)
               ON CONFLICT (person_id) DO UPDATE SET level = 2 RETURNING id, person_id""",
            [p for p, _, _ in rows],
            [w for _, _, w in rows],
        )
        account_of = {r["person_id"].strip(): r["id"] for r in ids}
        keys = DatabaseKeyProvider(pool, settings.kek_bytes())
        tokens = TokenService(keys, issuer=settings.public_base_url, ttl_seconds=900)
        out = []
        for person_id, _, wallet in rows:
            principal = Principal(
                kind="citizen",
                subject=str(account_of[person_id]),
                level=2,
                device_id=str(uuid.uuid4()),
            )
            token, _ = await tokens.issue(principal)
            out.append((person_id, str(account_of[person_id]), token, wallet))
        # Unlink whatever earlier runs left, so that every request is a new link.
        await pool.execute(
            "UPDATE wallet_links SET state = 'unlinked', is_default = false WHERE account_id = ANY($1::uuid[])",
            list(account_of.values()),
        )
        return out
    finally:
        await pool.close()


def _otps(store: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)) as db:
        return dict(db.execute("SELECT link_id, otp FROM link_otps WHERE confirmed_at IS NULL").fetchall())


async def _complete(
    api_url: str, settings: Settings, store: Path, tokens: dict[str, str], deadline: float
) -> dict[str, Any]:
    """Submit OTPs for links awaiting one until every accepted link is active or refused."""
    pool = await asyncpg.connect(settings.database_url)
    submitted: set[str] = set()
    sem = asyncio.Semaphore(32)
    try:
        async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:

            async def submit(link_id: str, account_id: str, otp: str) -> None:
                async with sem:
                    await client.post(
                        f"/v1/me/wallet-links/{link_id}/otp",
                        json={"otp": otp},
                        headers={"Authorization": f"Bearer {tokens[account_id]}"},
                    )

            while True:
                rows = await pool.fetch(
                    """SELECT id::text, account_id::text, state FROM wallet_links
                       WHERE account_id = ANY($1::uuid[]) AND state <> 'unlinked'""",
                    list(tokens),
                )
                states: dict[str, int] = {}
                for r in rows:
                    states[r["state"]] = states.get(r["state"], 0) + 1
                waiting = [r for r in rows if r["state"] == "awaiting_otp" and r["id"] not in submitted]
                if waiting:
                    otps = _otps(store)
                    ready = [r for r in waiting if r["id"] in otps]
                    await asyncio.gather(*(submit(r["id"], r["account_id"], otps[r["id"]]) for r in ready))
                    submitted.update(r["id"] for r in ready)
                done = states.get("active", 0) + states.get("refused", 0) + states.get("failed", 0)
                if (rows and done == len(rows)) or time.monotonic() > deadline:
                    last = await pool.fetchval(
                        "SELECT max(activated_at) FROM wallet_links WHERE account_id = ANY($1::uuid[])", list(tokens)
                    )
                    return {"states": states, "last_activated_at": last.timestamp() if last else None}
                await asyncio.sleep(0.25)
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=3000)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of link requests")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--provider-rate", type=float, default=50.0, help="requests/s each provider allows")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds to wait for completions")
    args = parser.parse_args()
    with services() as settings, tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "provider-sim" / "sim.sqlite3"  # where start_provider_sim keeps it
        store.parent.mkdir()
        sim_port = free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        providers = _providers_json(sim_url, args.provider_rate)
        env = {
            **os.environ,
            "WALLET_DATABASE_URL": settings.database_url,
            "WALLET_REDIS_URL": settings.redis_url,
            "WALLET_PROVIDERS": providers,
            "WALLET_LOG_LEVEL": "WARNING",
        }
        citizens = asyncio.run(_citizens(settings, args.citizens))
        sim_store = SimStore(store)
        sim_store.insert_wallets_if_absent(
            Wallet(_CODES[i % 4], wallet, person_id, f"LE THI BENCH {i:05d}", "active", 100_000_000, 0, "owned")
            for i, (person_id, _, _, wallet) in enumerate(citizens)
        )
        sim_store.close()
        with (
            start_provider_sim(Path(tmp), port=sim_port, extra_args=("--latency-ms", str(args.latency_ms)), env=env),
            api_server(settings, processes=2, extra_env={"WALLET_PROVIDERS": providers}) as api,
            _worker(env, args.workers),
        ):
            baseline = asyncio.run(
                run_load(api.host, api.port, lambda _: Request("GET", "/health/live"), duration=5, name="/health/live")
            ).summary()

            def link_request(i: int) -> Request:
                _, _, token, wallet = citizens[(i - 1) % len(citizens)]
                code = _CODES[(i - 1) % len(citizens) % 4]
                return Request.json(
                    "POST",
                    "/v1/me/wallet-links",
                    {"provider": code, "wallet_account": wallet},
                    {"authorization": f"Bearer {token}"},
                )

            started = time.time()
            accepted = asyncio.run(
                run_load(
                    api.host,
                    api.port,
                    link_request,
                    connections=args.connections,
                    duration=args.duration,
                    max_requests=len(citizens),
                    warmup=0.0,
                    name="POST /v1/me/wallet-links",
                    check=lambda r: r.status == 202,
                )
            ).summary()
            tokens = {account_id: token for _, account_id, token, _ in citizens}
            outcome = asyncio.run(_complete(api.url, settings, store, tokens, time.monotonic() + args.deadline))
        active = outcome["states"].get("active", 0)
        last = outcome["last_activated_at"]
        completions = {
            "name": "links completed end to end",
            "accepted": accepted["statuses"].get(202, 0),
            "states": outcome["states"],
            "seconds": round(last - started, 1) if last else None,
            "rate_per_s": round(active / (last - started), 1) if last else 0,
        }
    results = [baseline, accepted, completions]
    for r in results:
        print(json.dumps(r, default=str))
    record("linking", {"args": vars(args), "results": results})


if __name__ == "__main__":
    main()
