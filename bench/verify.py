"""Document verification: online codes and offline QR payloads per second, against the baseline.

Sets up an issuer, a verifier, a citizen with a device key and a driving licence, then
measures in one run, one after another, with the same connections:

* ``GET /health/live``: the baseline;
* ``POST /v1/verifications`` with a fresh online code each time (Redis burn + PostgreSQL read,
  access-log row and outbox event, group-committed);
* ``POST /v1/verifications`` with an offline ``VN2:`` payload (COSE signature check, status
  from PostgreSQL, access-log row and outbox event);
* the reference verifier in this process, then in ``--processes`` processes at once (what a
  verifier app or a checkpoint gateway embeds: signature, issuer key, validity and status
  from a cached list), without HTTP.

Each HTTP line also reports the CPU time the API, PostgreSQL and Redis spent per request
(``bench/cpu.py``), a figure that other load on the machine moves far less than req/s.

Codes are put in Redis beforehand by the same function the API uses, so that making them
does not load the machine while verifications are measured.

    .venv/bin/python -m bench.verify [--duration 8] [--connections 32] [--processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import ec

from bench.cpu import CpuMeter
from bench.loadgen import Request, run_load
from bench.system import RunningApi, api_server, record, services
from documents.presentation import store_code
from documents.verifier import OfflineVerifier
from tests.support.signing import signed_jwt
from wallet_api.auth.principal import Principal
from wallet_api.auth.tokens import TokenService
from wallet_api.db import create_pool
from wallet_api.keys import DatabaseKeyProvider
from wallet_api.keys.provider import public_jwk
from wallet_api.settings import Settings

LICENCE = {
    "full_name": "Nguyễn Văn Hùng",
    "date_of_birth": "1990-05-17",
    "nationality": "Việt Nam",
    "place_of_residence": "Số 12 ngõ 34 phố Nguyễn Chí Thanh, phường Láng Thượng, quận Đống Đa, Hà Nội",
    "classes": [
        {"code": "A1", "issue_date": "2012-03-01"},
        {"code": "B", "issue_date": "2015-06-10", "expiry_date": "2035-06-10"},
    ],
    "issue_date": "2025-01-15",
    "expiry_date": "2035-06-10",
    "issuing_authority": "Cục Cảnh sát giao thông",
    "points": 12,
}


async def arrange(settings: Settings) -> dict[str, Any]:
    """Organisations, a citizen with a device, tokens (as sign-in would issue them)."""
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        await pool.execute(
            """INSERT INTO organisations (id, kind, name, document_types) VALUES
               ('bench-csgt', 'issuer', 'Cục CSGT (bench)', '{driving_licence}'),
               ('bench-verifier', 'verifier', 'Bench verifier', '{}')
               ON CONFLICT (id) DO NOTHING"""
        )
        person = "001090" + f"{secrets.randbelow(10**6):06d}"
        # The licence's name and birth date are the holder's registry record (issuing checks it).
        await pool.execute(
            """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin,
                                       residence_address, residence_province)
               VALUES ($1, $2, $3, 'male', 'Hà Nội', 'Hà Nội', '001') ON CONFLICT (person_id) DO NOTHING""",
            person,
            LICENCE["full_name"],
            date.fromisoformat(str(LICENCE["date_of_birth"])),
        )
        key = ec.generate_private_key(ec.SECP256R1())
        account = await pool.fetchval(
            "INSERT INTO accounts (person_id, phone, level) VALUES ($1, '0900000000', 2) RETURNING id", person
        )
        device = await pool.fetchval(
            "INSERT INTO devices (account_id, name, public_jwk) VALUES ($1, 'bench', $2) RETURNING id",
            account,
            public_jwk(key.public_key()),
        )
        tokens = TokenService(
            DatabaseKeyProvider(pool, settings.kek_bytes()), issuer=settings.public_base_url, ttl_seconds=900
        )
        issuer, _ = await tokens.issue(
            Principal(kind="client", subject="bench-csgt", org_id="bench-csgt", scopes=frozenset({"documents:issue"}))
        )
        verifier, _ = await tokens.issue(
            Principal(
                kind="client", subject="bench-verifier", org_id="bench-verifier", scopes=frozenset({"documents:verify"})
            )
        )
        citizen, _ = await tokens.issue(
            Principal(kind="citizen", subject=str(account), level=2, device_id=str(device), auth_time=int(time.time()))
        )
    finally:
        await pool.close()
    return {
        "person": person,
        "key": key,
        "account": str(account),
        "device": str(device),
        "issuer": issuer,
        "verifier": verifier,
        "citizen": citizen,
    }


def issue_licence(http: httpx.Client, who: dict[str, Any]) -> str:
    """Over HTTP, as the agency would: a driving licence for the arranged citizen; its id."""
    r = http.post(
        "/v1/agency/documents",
        headers={"Authorization": f"Bearer {who['issuer']}"},
        json={
            "doc_type": "driving_licence",
            "agency_ref": f"BENCH-{uuid.uuid4().hex[:12]}",
            "holder_id": who["person"],
            "claims": {**LICENCE, "licence_number": who["person"]},
        },
    )
    r.raise_for_status()
    return str(r.json()["id"])


def issue_and_show(base: str, who: dict[str, Any]) -> tuple[str, str, str]:
    """Over HTTP, as the agency and the app would: issue a licence, make an offline payload."""
    with httpx.Client(base_url=base, timeout=30) as http:
        doc_id = issue_licence(http, who)
        proof = signed_jwt(
            who["key"],
            {
                "document_id": doc_id,
                "fields": ["full_name", "classes", "expiry_date"],
                "mode": "offline",
                "aud": f"{Settings.from_env().public_base_url.rstrip('/')}/v1/me/documents/{doc_id}/presentations",
                "iat": int(time.time()),
                "jti": secrets.token_urlsafe(16),
            },
            "presentation-request+jwt",
        )
        r = http.post(
            f"/v1/me/documents/{doc_id}/offline-presentations",
            headers={"Authorization": f"Bearer {who['citizen']}"},
            json={"proof": proof},
        )
        r.raise_for_status()
        return doc_id, r.json()["payload"], r.text


async def make_codes(settings: Settings, who: dict[str, Any], doc_id: str, n: int) -> list[str]:
    redis = aioredis.from_url(settings.redis_url)
    codes: list[str] = []
    try:
        for start in range(0, n, 50):
            codes += await asyncio.gather(
                *(
                    store_code(
                        redis,
                        document_id=uuid.UUID(doc_id),
                        fields=["classes", "expiry_date"],
                        account_id=who["account"],
                        device_id=who["device"],
                        verifier_org_id=None,
                        ttl=600,
                    )
                    for _ in range(min(50, n - start))
                )
            )
    finally:
        await redis.aclose()
    return codes


def _in_process(base: str, payload: str, seconds: float) -> dict[str, Any]:
    """The reference verifier as a verifier app embeds it: cached keys and status list, no HTTP."""
    with tempfile.TemporaryDirectory() as cache, httpx.Client(timeout=10) as http:
        verifier = OfflineVerifier(base, Path(cache), lambda url: http.get(url).content)
        verifier.verify(payload)  # fills the cache
        offline = OfflineVerifier(base, Path(cache), None)
        latencies: list[float] = []
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            offline.verify(payload)
            latencies.append(time.perf_counter() - t0)
    latencies.sort()
    return {
        "name": "reference verifier in-process (offline payload)",
        "requests": len(latencies),
        "rate_per_s": round(len(latencies) / seconds),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 3),
    }


def _in_processes(base: str, payload: str, seconds: float, processes: int) -> dict[str, Any]:
    """The reference verifier in ``processes`` processes at once: a verifier gateway using every core."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.starmap(_in_process, [(base, payload, seconds)] * processes)
    return {
        "name": f"reference verifier in {processes} processes (offline payload)",
        "requests": sum(p["requests"] for p in parts),
        "rate_per_s": sum(p["rate_per_s"] for p in parts),
        "p50_ms": max(p["p50_ms"] for p in parts),
        "p99_ms": max(p["p99_ms"] for p in parts),
    }


def measure(
    api: RunningApi,
    settings: Settings,
    runs: list[tuple[str, Callable[[int], Request]]],
    duration: float,
    connections: int,
    codes: int,
) -> list[dict[str, Any]]:
    """Each run in turn with the same connections: rate, latency and CPU per request.

    ``loadgen_cpu_ms`` is this process's CPU per request (the load generator's, warm-up included).

    A run whose name starts with "online" stops before it runs out of the ``codes`` prepared.
    """
    results: list[dict[str, Any]] = []
    meter = CpuMeter(api.process.pid, settings.data_dir)
    for name, factory in runs:
        before, generator = meter.sample(), time.process_time()
        result = asyncio.run(
            run_load(
                api.host,
                api.port,
                factory,
                connections=connections,
                duration=duration,
                name=name,
                max_requests=codes - 2 * connections if name.startswith("online") else None,
            )
        )
        generator = (time.process_time() - generator) * 1000 / max(result.requests, 1)
        used = meter.per_request_ms(before, meter.sample(), result.requests)
        results.append({**result.summary(), **used, "loadgen_cpu_ms": round(generator, 3)})
    return results


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """The options every verification benchmark takes."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--codes", type=int, default=40_000, help="online codes prepared in Redis")
    parser.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    return parser


def report(name: str, args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    """Print each result with its share of the first (the baseline) and keep them under bench/results/."""
    base_rate = float(results[0]["rate_per_s"]) or 1.0
    for r in results:
        r["share_of_baseline"] = round(float(r["rate_per_s"]) / base_rate, 2)
        print(json.dumps(r, ensure_ascii=False))
    record(name, {"args": vars(args), "results": results})


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--only", choices=["online", "offline"], help="measure the baseline and this one only")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with services() as settings:
        who = asyncio.run(arrange(settings))
        env = {"WALLET_DOCUMENTS_VERIFY_RATE_PER_MINUTE": "100000000"}
        with api_server(settings, processes=args.processes, server=args.server, extra_env=env) as api:
            doc_id, payload, _ = issue_and_show(api.url, who)
            codes = asyncio.run(make_codes(settings, who, doc_id, args.codes))
            auth = {"authorization": f"Bearer {who['verifier']}"}

            def online(i: int) -> Request:
                return Request.json("POST", "/v1/verifications", {"payload": codes[(i - 1) % len(codes)]}, auth)

            def offline(_: int) -> Request:
                return Request.json("POST", "/v1/verifications", {"payload": payload}, auth)

            runs = [
                ("baseline GET /health/live", lambda _: Request("GET", "/health/live")),
                ("online code verification", online),
                ("offline payload verification", offline),
            ]
            if args.only:
                runs = [runs[0]] + [r for r in runs[1:] if r[0].startswith(args.only)]
            results += measure(api, settings, runs, args.duration, args.connections, args.codes)
            results.append(_in_process(api.url, payload, min(args.duration, 5.0)))
            results.append(_in_processes(api.url, payload, min(args.duration, 5.0), args.processes))
    report("verify", args, results)


if __name__ == "__main__":
    main()
