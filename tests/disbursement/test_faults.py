"""Chaos against the provider simulator, with real worker processes.

Two ``wallet worker`` processes pay a batch through the simulator while it loses 10% of
bulk payout responses after committing them, sends 20% of callbacks twice and drops another
20%; one worker is killed with SIGKILL mid-batch and replaced, and the workers' Redis is
stopped mid-batch for good. Afterwards the provider's statement and our ledger agree to
the đồng, no payment was executed twice, none was lost.

The second puts sent payments back to 'approved' (429s, 503s), lets their beneficiaries
die, kills a worker and imports the day's statement again and again while payments
settle; every ledger account must end where the payments' states say.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from payments.disbursement import holds, ledger, reconciliation
from payments.providers.registry import ProviderRegistry
from tests.disbursement.conftest import Agency, add_residents, csv_body, enrol, make_programme, released_batch
from tests.disbursement.ledger_checks import assert_every_account_settles
from tests.support.processes import stop_processes
from tests.support.provider_sim import ProviderSim, WebhookCapture, start_provider_sim
from wallet_api.embedded import EmbeddedRedis
from wallet_api.settings import Settings

N = 600


def _start_worker(settings: Settings, redis_url: str, sim: ProviderSim, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WALLET_ENV": "test",
        "WALLET_DATABASE_URL": settings.database_url,
        "WALLET_REDIS_URL": redis_url,
        "WALLET_KEK": settings.kek,
        "WALLET_DATA_DIR": str(data_dir),
        "WALLET_PROVIDERS": "",
        "WALLET_PROVIDER_SIM_URL": sim.url,
        "WALLET_PAYOUT_LEASE_SECONDS": "3",
        "WALLET_PAYOUT_NOT_FOUND_GRACE_SECONDS": "2",
        "WALLET_PAYOUT_CLAIM_SIZE": "10",
        "WALLET_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "metrics"),
    }
    (data_dir / "metrics").mkdir(parents=True, exist_ok=True)
    log = open(data_dir / f"worker-{uuid.uuid4().hex[:6]}.log", "ab")  # noqa: SIM115 - owned by the child
    try:
        return subprocess.Popen([sys.executable, "-m", "wallet_api.cli", "worker"], env=env, stdout=log, stderr=log)
    finally:
        log.close()


async def _counts(db: asyncpg.Pool) -> dict[str, int]:
    return {r["state"]: r["n"] for r in await db.fetch("SELECT state, count(*) AS n FROM payments GROUP BY 1")}


@pytest.mark.slow
async def test_kill_9_time_outs_lost_and_duplicate_callbacks_and_redis_down_lose_and_double_nothing(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, settings: Settings, tmp_path: Path, app: Any
) -> None:
    people = await add_residents(db, N, provider="momo")
    workers: list[subprocess.Popen[bytes]] = []
    worker_redis = EmbeddedRedis(tmp_path / "worker-redis")
    redis_url = worker_redis.start()
    with start_provider_sim(tmp_path / "sim", extra_args=["--random-seed", "6"]) as sim, WebhookCapture() as capture:
        for p in people:
            sim.add_wallet("momo", str(p.wallet_account), p.person_id, "NGUYEN VAN A")
        sim.set_webhook_base_url(capture.url)
        sim.set_faults(
            latency_ms=5,
            timeout_after_commit_rate=0.1,
            hang_ms=300,
            webhook_duplicate_rate=0.2,
            webhook_drop_rate=0.2,
        )
        programme = await make_programme(client, agency, budget=N * 500_000)
        await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", "r") for p in people]))
        try:
            workers = [_start_worker(settings, redis_url, sim, tmp_path) for _ in range(2)]
            await released_batch(client, agency, programme["id"], N, N * 500_000)
            relayed = 0
            killed = redis_stopped = False
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                hooks = capture.received[relayed:]
                for hook in hooks:
                    r = await client.post(hook.path, content=hook.body, headers=hook.headers)
                    assert r.status_code == 200, r.text
                relayed += len(hooks)
                counts = await _counts(db)
                done = counts.get("succeeded", 0) + counts.get("failed", 0)
                if not killed and done >= N // 4:
                    os.kill(workers[0].pid, signal.SIGKILL)
                    workers[0].wait()
                    workers.append(_start_worker(settings, redis_url, sim, tmp_path))
                    killed = True
                if killed and not redis_stopped and done >= N // 2:
                    worker_redis.stop()
                    redis_stopped = True
                if done == N:
                    break
                await asyncio.sleep(0.2)
            assert killed and redis_stopped
            assert await _counts(db) == {"succeeded": N}, await _counts(db)
            # The faults really happened: lost responses resolved by asking, callbacks twice and never.
            assert await db.fetchval("SELECT count(*) FROM payment_transitions WHERE to_state = 'unknown'") > 0
            distinct_callbacks = await db.fetchval("SELECT count(*) FROM provider_events")
            assert relayed > distinct_callbacks
            assert distinct_callbacks < N
        finally:
            stop_processes(workers)
            worker_redis.stop()
        # The provider's statement against our books.
        async with aioredis.from_url(settings.redis_url) as redis:
            registry = ProviderRegistry(sim.settings_for(settings), redis)
            try:
                momo = registry.get("momo")
                day = datetime.now(UTC).date()
                lines = [line async for line in momo.statement(day)]
                async with db.acquire() as conn:
                    out = await reconciliation.reconcile_lines(conn, "momo", day, momo.statement(day), "test")
            finally:
                await registry.aclose()
    paid_ids = [line.payment_id for line in lines if line.kind == "payout"]
    assert len(paid_ids) == len(set(paid_ids)) == N  # zero duplicates, zero lost
    assert out["counts"] == {"matched": N}
    balances = await ledger.balances(db, uuid.UUID(programme["id"]))
    assert balances["paid"] == sum(line.amount for line in lines) == N * 500_000
    assert balances["reserved"] == 0 and balances["in_flight:momo"] == 0
    assert await _counts(db) == {"reconciled": N}
    assert await db.fetchval("SELECT count(*) FROM ledger_transactions WHERE kind = 'settle'") == N


async def _import_statement(db: asyncpg.Pool, momo: Any, day: Any) -> dict[str, Any]:
    async with db.acquire() as conn:
        return await reconciliation.reconcile_lines(conn, "momo", day, momo.statement(day), "test")


@pytest.mark.slow
async def test_requeues_deaths_and_intraday_and_repeated_statements_leave_every_account_settled(
    client: httpx.AsyncClient,
    agency: Agency,
    db: asyncpg.Pool,
    settings: Settings,
    tmp_path: Path,
    app: Any,
    worker_ctx: Any,
) -> None:
    """Chaos for the ledger: 429s and 503s put sent payments back to 'approved', beneficiaries
    of such payments die, a worker is killed, the day's statement is imported again and again
    while payments settle. Every account ends where the payments' states say (D1, D2, D3)."""
    n = 300
    people = await add_residents(db, n, provider="momo")
    workers: list[subprocess.Popen[bytes]] = []
    with start_provider_sim(tmp_path / "sim", extra_args=["--random-seed", "7"]) as sim, WebhookCapture() as capture:
        for p in people:
            sim.add_wallet("momo", str(p.wallet_account), p.person_id, "NGUYEN VAN A")
        sim.set_webhook_base_url(capture.url)
        sim.set_faults(
            latency_ms=5,
            throttle_rate=0.2,  # 429: back to approved, same id later
            error_rate=0.05,  # 503 before acting: unknown, "not found", back to approved
            timeout_after_commit_rate=0.05,
            hang_ms=300,
            webhook_duplicate_rate=0.2,
            operations=["payout", "payout_status"],
        )
        programme = await make_programme(client, agency, budget=n * 500_000)
        programme_id = uuid.UUID(programme["id"])
        await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", "r") for p in people]))
        async with aioredis.from_url(settings.redis_url) as redis:
            registry = ProviderRegistry(sim.settings_for(settings), redis)
            momo = registry.get("momo")
            day = datetime.now(UTC).date()
            try:
                workers = [_start_worker(settings, settings.redis_url, sim, tmp_path) for _ in range(2)]
                await released_batch(client, agency, programme["id"], n, n * 500_000)
                relayed = imports = 0
                killed = False
                deaths: set[str] = set()
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline:
                    hooks = capture.received[relayed:]
                    for hook in hooks:
                        r = await client.post(hook.path, content=hook.body, headers=hook.headers)
                        assert r.status_code == 200, r.text
                    relayed += len(hooks)
                    # Beneficiaries of payments that were sent and put back die before the resend.
                    if len(deaths) < 12:
                        for row in await db.fetch(
                            "SELECT person_id FROM payments WHERE state = 'approved' AND send_attempts > 0 LIMIT 3"
                        ):
                            deaths.add(row["person_id"])
                            await db.execute(
                                "UPDATE population SET status = 'deceased', died_on = current_date"
                                " WHERE person_id = $1",
                                row["person_id"],
                            )
                    counts = await _counts(db)
                    done = sum(counts.get(s, 0) for s in ("succeeded", "reconciled", "failed", "held", "returned"))
                    if not killed and done >= n // 3:
                        os.kill(workers[0].pid, signal.SIGKILL)
                        workers[0].wait()
                        workers.append(_start_worker(settings, settings.redis_url, sim, tmp_path))
                        killed = True
                    if imports < 2 and done >= n * (imports + 1) // 3:
                        out = await _import_statement(db, momo, day)  # intraday: payments still settling
                        assert out["complete"] is False and "missing_at_provider" not in out["counts"]
                        imports += 1
                    if done == n:
                        break
                    await asyncio.sleep(0.2)
                assert killed and imports == 2 and deaths
            finally:
                stop_processes(workers)
            await holds.sweep_holds_once(worker_ctx)  # the dead beneficiaries' payments return
            for _ in range(2):  # the day's statement, imported twice more
                out = await _import_statement(db, momo, day)
            lines = [line async for line in momo.statement(day)]
            await registry.aclose()
    paid_ids = [line.payment_id for line in lines if line.kind == "payout"]
    assert len(paid_ids) == len(set(paid_ids))  # nothing paid twice
    counts = await _counts(db)
    assert set(counts) <= {"reconciled", "returned"}, counts
    assert counts["reconciled"] == len(paid_ids) and counts.get("returned", 0) + len(paid_ids) == n
    assert out["counts"] == {"matched": len(paid_ids)}
    r = await client.get(f"/v1/programmes/{programme_id}/report", headers=agency.checker)
    assert r.json()["reconciliation"] == {"matched": len(paid_ids)}  # three imports, counted once
    # The D1 path happened: money of payments sent, put back and then stopped by a death.
    assert await db.fetchval("SELECT count(*) FROM payments WHERE state = 'returned' AND send_attempts > 0") > 0
    balances = await assert_every_account_settles(db, programme_id)
    assert balances["paid"] == sum(line.amount for line in lines if line.kind == "payout")
