"""Device-signature sign-ins per second and their latency, against the baseline in the same run.

One sign-in is what the phone does every day: ``POST /v1/auth/challenges`` then
``POST /v1/auth/sign-in`` with an ES256 signature over the challenge (signed here, in the
load generator, as the phone would). The server runs one Redis script to issue the
challenge and one to burn it (with the device's lock read), then one indexed read, one
signature verification and one insert (refresh token family) on one pooled connection,
and signs an access token.

Devices are bound directly in the database for the run (thousands of them, so that the
per-device challenge limit of 30 a minute is not what is measured).

    .venv/bin/python -m bench.signin [--duration 10] [--connections 64] [--devices 4000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncpg
import uvloop
from cryptography.hazmat.primitives.asymmetric import ec

from bench.cpu import CpuMeter
from bench.loadgen import LoadResult, Request, _read_response, run_load
from bench.system import RunningApi, api_server, record, services
from tests.support.signing import es256
from wallet_api.keys.provider import jwk_thumbprint, public_jwk

T = TypeVar("T")


async def bind_devices(dsn: str, count: int) -> list[tuple[str, ec.EllipticCurvePrivateKey]]:
    """Accounts with one bound device each (bench fixtures, written straight to the tables)."""
    devices = []
    conn = await asyncpg.connect(dsn)
    try:
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        run = uuid.uuid4().hex[:6]
        account_rows, device_rows = [], []
        for i in range(count):
            key = ec.generate_private_key(ec.SECP256R1())
            jwk = public_jwk(key.public_key())
            account_id, device_id = uuid.uuid4(), uuid.uuid4()
            # Bench-only person ids: a 12-digit number unique per run and index.
            person_id = f"9{int(run, 16) % 10**5:05d}{i:06d}"
            account_rows.append((account_id, person_id, "+84900000000"))
            device_rows.append((device_id, account_id, "bench", {**jwk, "kid": jwk_thumbprint(jwk)}))
            devices.append((str(device_id), key))
        await conn.executemany("INSERT INTO accounts (id, person_id, phone) VALUES ($1, $2, $3)", account_rows)
        await conn.executemany(
            "INSERT INTO devices (id, account_id, name, public_jwk) VALUES ($1, $2, $3, $4)", device_rows
        )
    finally:
        await conn.close()
    return devices


async def sign_in_load(
    host: str,
    port: int,
    devices: list[tuple[str, ec.EllipticCurvePrivateKey]],
    *,
    connections: int,
    duration: float,
    warmup: float = 1.0,
) -> LoadResult:
    """Closed loop: each connection signs in again and again, cycling through the devices."""
    counter = 0
    measured = errors = 0
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration

    async def one_connection() -> None:
        nonlocal counter, measured, errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at:
                counter += 1
                device_id, key = devices[counter % len(devices)]
                t0 = time.perf_counter()
                writer.write(Request.json("POST", "/v1/auth/challenges", {"device_id": device_id}).encode(host))
                challenge = await _read_response(reader)
                ok = challenge.status == 200
                status = challenge.status
                if ok:
                    body = challenge.json()
                    payload = {
                        "device_id": device_id,
                        "challenge": body["challenge"],
                        "signature": es256(key, body["sign"]),
                    }
                    writer.write(Request.json("POST", "/v1/auth/sign-in", payload).encode(host))
                    resp = await _read_response(reader)
                    status = resp.status
                    ok = resp.status == 200
                t1 = time.perf_counter()
                if t0 >= measure_from:
                    measured += 1
                    latencies.append(t1 - t0)
                    statuses[status] = statuses.get(status, 0) + 1
                    errors += 0 if ok else 1
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    elapsed = min(time.perf_counter(), stop_at) - measure_from
    return LoadResult("device sign-in (challenge + sign-in)", measured, errors, max(elapsed, 1e-9), latencies, statuses)


def _measured(meter: CpuMeter, coro: Coroutine[Any, Any, LoadResult]) -> tuple[LoadResult, dict[str, float]]:
    """Run one load; return it with the CPU milliseconds per operation of each part of the system.

    CPU is read around the whole run (warm-up included), so the measured count is scaled to
    the run's full length. The load generator's own CPU (it signs like a phone) is shown too:
    it comes out of the same two cores.
    """
    before, own_before, started = meter.sample(), resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    result = _run(coro)
    wall, after, own_after = time.perf_counter() - started, meter.sample(), resource.getrusage(resource.RUSAGE_SELF)
    operations = round(result.requests * wall / result.seconds) if result.requests else 0
    per_op = CpuMeter.per_request_ms(before, after, operations)
    own = (own_after.ru_utime + own_after.ru_stime) - (own_before.ru_utime + own_before.ru_stime)
    per_op["load_generator_cpu_ms"] = round(own * 1000 / max(operations, 1), 3)
    per_op["total_cpu_ms"] = round(sum(per_op.values()), 3)
    return result, per_op


def measure_baseline(
    meter: CpuMeter, api: RunningApi, *, connections: int, duration: float
) -> tuple[LoadResult, dict[str, float]]:
    """The ``/health/live`` baseline of this run, with the CPU per request of every part."""
    load = run_load(
        api.host,
        api.port,
        lambda _: Request("GET", "/health/live"),
        connections=connections,
        duration=duration,
        name="baseline /health/live",
    )
    return _measured(meter, load)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    # The load generator runs on uvloop, like the API: its own CPU comes out of the same
    # two cores, so a cheaper generator leaves more for the server (baseline and sign-in alike).
    return uvloop.run(coro)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--devices", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=1, help="alternate baseline and sign-in this many times")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with services() as settings, api_server(settings, processes=args.processes) as api:
        devices = _run(bind_devices(settings.database_url, args.devices))
        meter = CpuMeter(api.process.pid, settings.data_dir)
        for round_no in range(1, args.rounds + 1):
            baseline, baseline_cpu = measure_baseline(meter, api, connections=args.connections, duration=args.duration)
            signins, signin_cpu = _measured(
                meter, sign_in_load(api.host, api.port, devices, connections=args.connections, duration=args.duration)
            )
            pair = [baseline.summary(), signins.summary()]
            pair[0]["cpu_ms_per_request"] = baseline_cpu
            pair[1]["cpu_ms_per_sign_in"] = signin_cpu
            pair[1]["http_requests_per_s"] = round(2 * signins.rate)
            pair[1]["share_of_baseline_requests"] = (
                round(2 * signins.rate / baseline.rate, 3) if baseline.rate else None
            )
            for r in pair:
                r["round"] = round_no
                r["load_average_1m"] = round(os.getloadavg()[0], 2)
                print(json.dumps(r, ensure_ascii=False), flush=True)
            results += pair
    record("signin", {"args": vars(args), "results": results})


if __name__ == "__main__":
    main()
