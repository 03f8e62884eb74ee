"""The app's own CPU per device sign-in, without an HTTP server: a figure other load barely moves.

On the shared 2-core machine, ``bench.signin``'s rates and even its CPU per sign-in swing by
±40 % from one run to the next when others are running. This calls the full app (every
middleware and route, real PostgreSQL and Redis) as an ASGI callable in this process,
``--concurrency`` sign-ins at a time, and reports the process CPU per sign-in less what the
phone's signatures cost here: what the API's Python costs, without granian and sockets.
Each round is a fresh app; compare two versions in alternating rounds, each in its own
process (``bench/before_after.py --only signin-app``, which runs this file against the
other checkout's code too).

    .venv/bin/python -m bench.signin_inprocess [--sign-ins 4000] [--concurrency 16] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import uvloop
from cryptography.hazmat.primitives.asymmetric import ec

from bench.signin import bind_devices
from bench.system import services
from wallet_api.settings import Settings

ASGI = Callable[..., Awaitable[None]]
Signer = Callable[[ec.EllipticCurvePrivateKey, str], str]


def _phone_signer() -> Signer:
    """The phone's ES256 signature (raw r || s), from whichever checkout runs this file."""
    try:
        from tests.support.signing import es256

        return es256
    except ImportError:  # checkouts from before tests/support/signing.py signed in bench.signin
        return cast(Signer, importlib.import_module("bench.signin")._sign)


async def asgi_post(app: ASGI, path: str, raw: bytes, content_type: bytes) -> tuple[int, bytes]:
    """Status and body of the app's answer to ``raw`` posted to ``path``, as granian would hand it over.

    Kept in this file (bench.oid4vp_inprocess imports it): ``before_after`` runs this file
    against older checkouts, whose ``bench`` package has no shared module for it.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", content_type), (b"content-length", str(len(raw)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    messages = [{"type": "http.request", "body": raw, "more_body": False}]
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["body"]


async def _post(app: ASGI, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    status, raw = await asgi_post(app, path, json.dumps(body).encode(), b"application/json")
    return status, json.loads(raw)


async def measure(sign_ins: int, concurrency: int, database_url: str) -> dict[str, Any]:
    from wallet_api.app import create_app

    devices = await bind_devices(database_url, 2000)
    app = create_app(Settings.from_env())
    sign = _phone_signer()
    signing = 0.0

    async def sign_in(i: int) -> None:
        nonlocal signing
        device, key = devices[i % len(devices)]
        status, challenge = await _post(app, "/v1/auth/challenges", {"device_id": device})
        assert status == 200, challenge
        started = time.process_time()
        signature = sign(key, challenge["sign"])
        signing += time.process_time() - started
        body = {"device_id": device, "challenge": challenge["challenge"], "signature": signature}
        status, session = await _post(app, "/v1/auth/sign-in", body)
        assert status == 200, session

    async def run(n: int) -> None:
        async def lane(k: int) -> None:
            for i in range(k, n, concurrency):
                await sign_in(i)

        await asyncio.gather(*(lane(k) for k in range(concurrency)))

    async with app.lifespan():
        await run(300)  # warm-up: caches, statements, batchers
        signing, cpu, wall = 0.0, time.process_time(), time.perf_counter()
        await run(sign_ins)
        cpu, wall = time.process_time() - cpu - signing, time.perf_counter() - wall
    return {
        "name": "device sign-in in process (app CPU, no HTTP server)",
        "sign_ins": sign_ins,
        "app_cpu_ms_per_sign_in": round(cpu * 1000 / sign_ins, 4),
        "wall_seconds": round(wall, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "utc": time.strftime("%H:%M:%S", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sign-ins", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with services() as settings:
        # The app reads its settings from the environment, as ``wallet serve`` passes them.
        os.environ.update(WALLET_DATABASE_URL=settings.database_url, WALLET_REDIS_URL=settings.redis_url)
        for _ in range(args.rounds):
            result = uvloop.run(measure(args.sign_ins, args.concurrency, settings.database_url))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
