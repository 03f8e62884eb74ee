"""Chip proofing checks per second (passive + active authentication), with the baseline of the same run.

One check is what ``POST /v1/proofing/chip-proofs`` does with the chip before the registry
and the face: decode and verify EF.SOD (CMS signature by the Document Signer, the DS chained
to the CSCA of the trust list, dates, CRL), hash DG1, DG2, DG13, DG14 and DG15 against it,
verify the chip's ECDSA answer to a fresh challenge with the DG15 key, and decode DG1, DG13
and the DG2 photo. Run in this process, then in ``--processes`` processes at once (what
the API's processes can do on every core), with cards of ``--cards`` different citizens
signed by one Document Signer (as the cards of one province are) and a new challenge for
every check. The ``/health/live`` baseline is measured first, in the same run, against the
API started for it.

    .venv/bin/python -m bench.proofing [--duration 8] [--processes 2] [--cards 50]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from datetime import date
from typing import Any

import uvloop

from bench.loadgen import Request, run_load
from bench.system import api_server, record, services


def _material(cards: int) -> tuple[list[Any], Any]:
    from proofing.chip import TrustList
    from proofing.devchip import Holder, make_chip, make_crl, make_csca, make_signer

    csca = make_csca()
    signer = make_signer(csca)
    chips = [
        make_chip(Holder(f"0011950{n:05d}", "Nguyễn Thị Hồng Nhung", date(1995, 4, 21)), signer) for n in range(cards)
    ]
    return chips, TrustList.from_files([csca.cert], [make_crl(csca, [make_signer(csca).cert])])


def _checks(seconds: float, cards: int) -> dict[str, Any]:
    """Checks in this process for ``seconds``: each a different challenge, cards in turn."""
    from proofing.chip import verify_chip

    chips, trust = _material(cards)
    answers = []
    for i in range(256):  # challenges and the chip's answers, made before the clock starts
        chip = chips[i % len(chips)]
        challenge = os.urandom(8)
        answers.append((chip.read, challenge, chip.answer(challenge)))
    verify_chip(*answers[0], trust)
    latencies: list[float] = []
    cpu = time.process_time()
    stop = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < stop:
        read, challenge, answer = answers[i % len(answers)]
        t0 = time.perf_counter()
        verify_chip(read, challenge, answer, trust)
        latencies.append(time.perf_counter() - t0)
        i += 1
    cpu = time.process_time() - cpu
    latencies.sort()
    return {
        "requests": len(latencies),
        "rate_per_s": round(len(latencies) / seconds),
        "cpu_ms_per_check": round(cpu * 1000 / len(latencies), 3),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 3),
    }


def _in_processes(seconds: float, cards: int, processes: int) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.starmap(_checks, [(seconds, cards)] * processes)
    return {
        "name": f"chip checks (passive + active) in {processes} processes",
        "requests": sum(p["requests"] for p in parts),
        "rate_per_s": sum(p["rate_per_s"] for p in parts),
        "cpu_ms_per_check": max(p["cpu_ms_per_check"] for p in parts),
        "p50_ms": max(p["p50_ms"] for p in parts),
        "p99_ms": max(p["p99_ms"] for p in parts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--cards", type=int, default=50)
    args = parser.parse_args()
    load_before = os.getloadavg()
    results: list[dict[str, Any]] = []
    with services() as settings, api_server(settings, processes=args.processes) as api:
        baseline = uvloop.run(
            run_load(
                api.host,
                api.port,
                lambda _: Request("GET", "/health/live"),
                connections=args.connections,
                duration=args.duration,
                name="baseline /health/live",
            )
        )
        results.append(baseline.summary())
    results.append({"name": "chip checks (passive + active) in 1 process", **_checks(args.duration, args.cards)})
    results.append(_in_processes(args.duration, args.cards, args.processes))
    base = float(results[0]["rate_per_s"])
    for r in results[1:]:
        r["of_baseline"] = round(float(r["rate_per_s"]) / base, 3) if base else None
    loads = {"load_average_before": load_before, "load_average_after": os.getloadavg()}
    for r in results:
        print(json.dumps(r))
    print(json.dumps(loads))
    record("proofing", {"args": vars(args), "results": results, **loads})


if __name__ == "__main__":
    main()
