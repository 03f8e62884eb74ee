"""Notifications: dispatch rate from the outbox, and SSE connections held with delivery latency.

Starts the real system (embedded PostgreSQL and Redis, ``wallet serve`` with one process)
and, in one run:

1. baseline: ``GET /health/live``;
2. dispatch: ``--events`` payment events for ``--accounts`` citizens (one push device each)
   are put in the outbox in bulk, then ``--workers`` ``wallet worker --consumer
   notifications.inbox`` processes turn them into inbox entries + push deliveries + realtime
   publishes; measured from the workers' start until the outbox is drained (notifications
   per second and per minute);
3. push sending: the FCM delivery loop, run in this process against the development sink
   (Redis), drains those deliveries (deliveries per second; no real gateway is involved);
4. SSE, then WebSocket: ``--connections`` apps, all opened at once, hold
   ``/v1/notifications/stream`` (or ``/v1/notifications/ws``) open on the one API process;
   this process then publishes ``--messages`` realtime messages (as the worker does) and
   measures publish → receipt latency at the client (p50/p99).

    .venv/bin/python -m bench.notifications [--accounts 20000] [--events 60000] [--workers 1]
                                            [--connections 2000] [--messages 3000]
                                            [--parts sse,ws,dispatch]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from bench.loadgen import Request, run_load
from bench.system import api_server, record, services
from tests.support.sse import open_stream, stream_events
from wallet_api.settings import Settings


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def _reset(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "TRUNCATE notification_deliveries, notifications, notification_counters, notification_preferences"
        " RESTART IDENTITY CASCADE"
    )
    await pool.execute("DELETE FROM outbox WHERE consumer = 'notifications.inbox'")
    await pool.execute(
        "DELETE FROM refresh_families WHERE device_id IN (SELECT id FROM devices WHERE name = 'bench phone')"
    )
    await pool.execute("DELETE FROM devices WHERE name = 'bench phone'")
    await pool.execute("DELETE FROM accounts WHERE person_id LIKE '999%'")


async def _accounts(pool: asyncpg.Pool, n: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(n)]
    await pool.execute(
        """INSERT INTO accounts (id, person_id, phone, level, language)
           SELECT id, '999' || lpad(i::text, 9, '0'), '09' || lpad(i::text, 8, '0'), 2,
                  CASE WHEN i % 5 = 0 THEN 'en' ELSE 'vi' END
           FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, i)""",
        ids,
    )
    await pool.execute(
        """INSERT INTO devices (account_id, name, public_jwk, push_platform, push_token)
           SELECT id, 'bench phone', '{"kty":"EC"}'::jsonb, 'fcm', 'bench-' || id
           FROM unnest($1::uuid[]) AS t(id)""",
        ids,
    )
    return ids


async def _fill_outbox(pool: asyncpg.Pool, accounts: list[uuid.UUID], n: int) -> None:
    from wallet_api.outbox import publish_many

    chunk = 5000
    for start in range(0, n, chunk):
        events = [
            (
                None,
                {
                    "account_id": str(random.choice(accounts)),
                    "payment_id": str(uuid.uuid4()),
                    "amount": 500000,
                    "programme_name": "Trợ cấp xã hội hằng tháng",
                },
            )
            for _ in range(min(chunk, n - start))
        ]
        async with pool.acquire() as conn, conn.transaction():
            await publish_many(conn, "payment.succeeded", events)


async def _dispatch(settings: Settings, pool: asyncpg.Pool, events: int, workers: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "WALLET_DATABASE_URL": settings.database_url,
        "WALLET_REDIS_URL": settings.redis_url,
        "WALLET_LOG_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    cmd = ["-m", "wallet_api.cli", "worker", "--processes", "1", "--consumer", "notifications.inbox"]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, *cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(workers)
    ]
    try:
        deadline = started + 120
        while time.perf_counter() < deadline:
            left = await pool.fetchval(
                "SELECT count(*) FROM outbox WHERE consumer = 'notifications.inbox' AND state = 'pending'"
            )
            if left == 0:
                break
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            await asyncio.wait_for(p.wait(), 30)
    created = await pool.fetchval("SELECT count(*) FROM notifications")
    deliveries = await pool.fetchval("SELECT count(*) FROM notification_deliveries")
    return {
        "events": events,
        "notifications": created,
        "deliveries": deliveries,
        "seconds_including_worker_start": round(elapsed, 2),
        "per_second": round(created / elapsed),
        "per_minute": round(created / elapsed * 60),
    }


async def _send_pushes(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> dict[str, Any]:
    from notifications.deliveries import deliver_once
    from tests.support.workers import worker_context

    async with httpx.AsyncClient() as http:
        ctx = worker_context(settings, pool, redis, http, worker_id="bench")
        started = time.perf_counter()
        sent = 0
        while n := await deliver_once(ctx, "fcm"):
            sent += n
        elapsed = time.perf_counter() - started
        await ctx.services.aclose()
    await redis.delete(*[k async for k in redis.scan_iter("dev:push:bench-*", count=1000)] or ["none"])
    return {"deliveries": sent, "seconds": round(elapsed, 2), "per_second": round(sent / elapsed) if elapsed else 0}


async def _token(settings: Settings, pool: asyncpg.Pool, accounts: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    from wallet_api.auth.principal import Principal
    from wallet_api.auth.tokens import TokenService
    from wallet_api.keys.provider import DatabaseKeyProvider

    tokens = TokenService(
        DatabaseKeyProvider(pool, settings.kek_bytes()), issuer=settings.public_base_url, ttl_seconds=900
    )
    # A stream needs a live session (a refresh family of its device): see notifications/feed.py.
    await pool.execute(
        """INSERT INTO refresh_families (id, account_id, device_id, auth_time, expires_at)
           SELECT gen_random_uuid(), account_id, id, now(), now() + interval '1 day'
           FROM devices WHERE account_id = ANY($1::uuid[])""",
        accounts,
    )
    rows = await pool.fetch("SELECT id, account_id FROM devices WHERE account_id = ANY($1::uuid[])", accounts)
    device = {r["account_id"]: str(r["id"]) for r in rows}
    out = {}
    for account in accounts:
        principal = Principal(kind="citizen", subject=str(account), level=2, device_id=device[account])
        token, _ = await tokens.issue(principal)
        out[account] = token
    return out


async def _sse_client(
    host: str, port: int, token: str, ready: asyncio.Event, latencies: list[float], failures: list[str]
) -> None:
    """A minimal SSE client on a raw socket (chunked HTTP/1.1), cheap enough to run thousands."""
    try:
        status, reader, _ = await open_stream(host, port, token)
        if b" 200 " not in status:
            failures.append(status.decode())
            return
        async for event in stream_events(reader):
            if b"event: ready" in event:
                ready.set()
            for line in event.split(b"\n"):
                if line.startswith(b"data: ") and b'"sent_at"' in line:
                    sent_at = json.loads(line[6:])["sent_at"]
                    latencies.append(time.time() - sent_at)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        failures.append(type(exc).__name__)


async def _ws_client(
    host: str, port: int, token: str, ready: asyncio.Event, latencies: list[float], failures: list[str]
) -> None:
    """A WebSocket app: the token as a ``bearer.*`` subprotocol, as browsers send it."""
    import websockets

    try:
        async with websockets.connect(
            f"ws://{host}:{port}/v1/notifications/ws",
            subprotocols=[f"bearer.{token}", "wallet.v1"],  # type: ignore[list-item]
            open_timeout=60,
            ping_interval=None,
            compression=None,
        ) as ws:
            async for raw in ws:
                message = json.loads(raw)
                if message["event"] == "ready":
                    ready.set()
                elif isinstance(message.get("data"), dict) and "sent_at" in message["data"]:
                    latencies.append(time.time() - message["data"]["sent_at"])
    except (OSError, websockets.exceptions.WebSocketException, ValueError) as exc:
        failures.append(type(exc).__name__)


async def _realtime(
    transport: str,
    settings: Settings,
    pool: asyncpg.Pool,
    redis: aioredis.Redis,
    host: str,
    port: int,
    accounts: list[uuid.UUID],
    messages: int,
    rate: float,
) -> dict[str, Any]:
    from notifications import publish_realtime

    tokens = await _token(settings, pool, accounts)
    latencies: list[float] = []
    failures: list[str] = []
    readies = []
    tasks = []
    opened = time.perf_counter()
    for i, account in enumerate(accounts):
        ready = asyncio.Event()
        readies.append(ready)
        client = _sse_client if transport == "sse" else _ws_client
        tasks.append(asyncio.create_task(client(host, port, tokens[account], ready, latencies, failures)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=30)
    open_seconds = time.perf_counter() - opened
    # Measure on the streams that said "ready" (all of them, unless the report says otherwise).
    live = [a for a, r in zip(accounts, readies, strict=True) if r.is_set()]
    # The process must still answer other requests while it holds every stream.
    health = await run_load(
        host, port, lambda _: Request("GET", "/health/live"), connections=8, duration=2, warmup=0.5, name="while held"
    )
    interval = 1.0 / rate
    t0 = time.perf_counter()
    for i in range(messages):
        await publish_realtime(redis, random.choice(live), "bench.ping", {"sent_at": time.time()})
        delay = t0 + (i + 1) * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    for _ in range(100):  # up to 10 s for the last messages
        if len(latencies) >= messages:
            break
        await asyncio.sleep(0.1)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    ms = [v * 1000 for v in latencies]
    return {
        "connections": len(accounts),
        "ready": len(live),
        "connect_and_ready_seconds": round(open_seconds, 1),
        "failures": len(failures),
        "failure_kinds": dict(collections.Counter(failures)),
        "messages": messages,
        "received": len(latencies),
        "publish_rate_per_second": rate,
        "health_live_while_held": health.summary(),
        "latency_ms": {
            "p50": round(_percentile(ms, 50), 1),
            "p99": round(_percentile(ms, 99), 1),
            "max": round(max(ms), 1) if ms else None,
        },
    }


async def main_async(args: argparse.Namespace, settings: Settings, host: str, port: int) -> dict[str, Any]:
    from wallet_api.db import create_pool

    pool = await create_pool(settings.database_url, min_size=2, max_size=10)
    redis = aioredis.from_url(settings.redis_url)
    results: dict[str, Any] = {}
    try:
        results["baseline"] = (
            await run_load(host, port, lambda _: Request("GET", "/health/live"), duration=3, name="/health/live")
        ).summary()
        print(json.dumps({"baseline": results["baseline"]}), flush=True)
        await _reset(pool)
        accounts = await _accounts(pool, args.accounts)
        parts = set(args.parts.split(","))
        for transport in ("sse", "ws"):
            if transport in parts:
                results[transport] = await _realtime(
                    transport, settings, pool, redis, host, port, accounts[: args.connections], args.messages, args.rate
                )
                print(json.dumps({transport: results[transport]}), flush=True)
        if "dispatch" in parts:
            await _fill_outbox(pool, accounts, args.events)
            results["dispatch"] = await _dispatch(settings, pool, args.events, args.workers)
            print(json.dumps({"dispatch": results["dispatch"]}), flush=True)
            results["push_to_dev_sink"] = await _send_pushes(settings, pool, redis)
            print(json.dumps({"push_to_dev_sink": results["push_to_dev_sink"]}), flush=True)
        await _reset(pool)
    finally:
        await redis.aclose()
        await pool.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--events", type=int, default=60000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=300.0, help="realtime messages published per second")
    parser.add_argument(
        "--parts", default="sse,ws,dispatch", help="comma-separated: sse, ws, dispatch (with push sending)"
    )
    args = parser.parse_args()
    with services() as settings, api_server(settings, processes=1) as api:
        results = asyncio.run(main_async(args, settings, api.host, api.port))
    path = record("notifications", {"args": vars(args), "results": results})
    print(f"recorded {path}", flush=True)


if __name__ == "__main__":
    main()
