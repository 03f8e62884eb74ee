"""The app's own CPU per OpenID4VP response, without an HTTP server: a figure other load barely moves.

``bench.oid4vp_validation``'s rates swing with whatever else runs on the shared machine.
This calls the full app (every middleware and route, real PostgreSQL and Redis) as an ASGI
callable in this process, ``--concurrency`` responses at a time, each a wallet's
``direct_post`` (or, with ``--mode direct_post.jwt``, encrypted) answer to its own fresh
presentation request, prepared before the clock starts as the served benchmark does; it
reports the process CPU per response. ``--profile FILE`` keeps a cProfile of the measured
responses (``python -m pstats FILE``).

    .venv/bin/python -m bench.oid4vp_inprocess [--responses 4000] [--concurrency 16] [--rounds 3] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import time
from typing import Any

import uvloop

from bench.oid4vp_validation import credential, prepare
from bench.signin_inprocess import asgi_post
from bench.system import api_server, services
from bench.verify import arrange, issue_and_show
from wallet_api.settings import Settings

_FORM = b"application/x-www-form-urlencoded"


async def measure(
    settings: Settings, prepared: list[tuple[str, bytes]], concurrency: int, profile: str | None
) -> dict[str, Any]:
    from wallet_api.app import create_app

    app = create_app(Settings.from_env())
    warm, timed = prepared[:300], prepared[300:]

    async def run(items: list[tuple[str, bytes]]) -> None:
        async def lane(k: int) -> None:
            for rid, body in items[k::concurrency]:
                status, answer = await asgi_post(app, f"/openid4vp/responses/{rid}", body, _FORM)
                assert status == 200, answer

        await asyncio.gather(*(lane(k) for k in range(concurrency)))

    async with app.lifespan():
        await run(warm)  # caches, statements, batchers
        profiler = cProfile.Profile() if profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        await run(timed)
        if profiler is not None:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
    return {
        "name": "OID4VP responses in process (app CPU, no HTTP server)",
        "responses": len(timed),
        "app_cpu_ms_per_response": round(cpu * 1000 / len(timed), 4),
        "wall_seconds": round(wall, 2),
        "profiled": profiler is not None,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "utc": time.strftime("%H:%M:%S", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--mode", choices=["direct_post", "direct_post.jwt"], default="direct_post")
    parser.add_argument("--profile", help="keep a cProfile of the last round's measured responses here")
    args = parser.parse_args()
    with services() as settings:
        # The app reads its settings from the environment, as ``wallet serve`` passes them.
        os.environ.update(WALLET_DATABASE_URL=settings.database_url, WALLET_REDIS_URL=settings.redis_url)
        who = asyncio.run(arrange(settings))
        with api_server(settings, processes=1) as api:  # issuing goes through HTTP, as in the served bench
            doc_id, _, _ = issue_and_show(api.url, who)
            sd_jwt = credential(api.url, who, doc_id)
        for round_ in range(args.rounds):
            n = args.responses + 300
            prepared = asyncio.run(prepare(settings, who, sd_jwt, n, args.mode))
            profile = args.profile if round_ == args.rounds - 1 else None
            result = uvloop.run(measure(settings, prepared, args.concurrency, profile))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
