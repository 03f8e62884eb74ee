"""The floor of a device sign-in: the same work without a web framework, in the same run.

``docs/benchmarks.md`` asks whether 2,000 sign-ins/s fit on two cores. This measures what
the sign-in's unavoidable work costs: the two routes' own domain functions
(``new_challenge``, ``sign_in_device``: the Redis scripts, the batched PostgreSQL read
and insert, the signature check, the token) called from a bare ASGI app under the same
granian settings as ``wallet serve``: no routing, no middleware (request id, metrics,
bearer, idempotency), no Litestar request, validation or response objects. Each round
alternates the baseline, full sign-ins against ``wallet serve`` and the same sign-ins
against the bare app, with the CPU per sign-in of every part of the system.

    .venv/bin/python -m bench.signin_floor [--duration 8] [--connections 64] [--devices 4000] [--rounds 2]

The bare app is a measuring probe, not a server to run: it answers a problem with its
status only and serves nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import msgspec

from bench.cpu import CpuMeter
from bench.signin import _measured, _run, bind_devices, measure_baseline, sign_in_load
from bench.system import api_server, record, services
from tests.support.ports import free_port
from wallet_api.accounts.schemas import ChallengeRequest, SignInRequest
from wallet_api.settings import Settings

_resources: dict[str, Any] = {}
_encode = msgspec.json.encode
_challenge_body = msgspec.json.Decoder(ChallengeRequest)
_sign_in_body = msgspec.json.Decoder(SignInRequest)


async def _reply(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    from wallet_api.accounts.ratelimit import key_names_secret, use_key_names_secret
    from wallet_api.services import open_services

    async with contextlib.AsyncExitStack() as stack:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                settings = Settings.from_env()
                services = await stack.enter_async_context(open_services(settings, role="api"))
                use_key_names_secret(key_names_secret(settings.kek_bytes()))
                _resources.update(settings=settings, redis=services.redis, services=services)
                await send({"type": "lifespan.startup.complete"})
            else:
                await stack.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def app(scope: Any, receive: Any, send: Any) -> None:
    """The two sign-in routes and a readiness probe, as a bare ASGI app."""
    from wallet_api.accounts.common import session_view
    from wallet_api.accounts.signin import new_challenge, sign_in_device
    from wallet_api.problems import Problem

    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    r = _resources
    try:
        if scope["path"] == "/v1/auth/challenges":
            view: Any = await new_challenge(r["redis"], r["settings"], _challenge_body.decode(body), "bench")
        elif scope["path"] == "/v1/auth/sign-in":
            view = session_view(await sign_in_device(r["services"], _sign_in_body.decode(body), "bench"))
        else:
            view = {}
    except Problem as problem:
        await _reply(send, problem.status, b"{}")
        return
    except msgspec.ValidationError:
        await _reply(send, 400, b"{}")
        return
    await _reply(send, 200, _encode(view))


@contextlib.contextmanager
def bare_server(settings: Settings, processes: int) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """This module's ``app`` under granian with ``wallet serve``'s settings."""
    port = free_port()
    env = {**os.environ, "WALLET_DATABASE_URL": settings.database_url, "WALLET_REDIS_URL": settings.redis_url}
    code = (
        "from granian.constants import Interfaces, Loops\n"
        "from granian.server import Server\n"
        f"Server('bench.signin_floor:app', address='127.0.0.1', port={port}, interface=Interfaces.ASGI,"
        f" workers={processes}, loop=Loops.uvloop, log_access=False, backlog=2048,"
        f" backpressure={settings.api_max_concurrency}).serve()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bare sign-in app did not start") from None
                time.sleep(0.2)
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--devices", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with (
        services() as settings,
        api_server(settings, processes=args.processes) as api,
        bare_server(settings, args.processes) as (bare_port, bare),
    ):
        devices = _run(bind_devices(settings.database_url, args.devices))
        full_meter = CpuMeter(api.process.pid, settings.data_dir)
        bare_meter = CpuMeter(bare.pid, settings.data_dir)
        for round_no in range(1, args.rounds + 1):
            baseline, baseline_cpu = measure_baseline(
                full_meter, api, connections=args.connections, duration=args.duration
            )
            rows = [(baseline.summary(), baseline_cpu)]
            for name, meter, port in (("full app", full_meter, api.port), ("bare app (floor)", bare_meter, bare_port)):
                load = sign_in_load(api.host, port, devices, connections=args.connections, duration=args.duration)
                result, cpu = _measured(meter, load)
                rows.append(({**result.summary(), "name": f"device sign-in, {name}"}, cpu))
            for summary, cpu in rows:
                summary.update(cpu_ms=cpu, round=round_no, load_average_1m=round(os.getloadavg()[0], 2))
                summary["utc"] = time.strftime("%H:%M:%S", time.gmtime())
                print(json.dumps(summary, ensure_ascii=False), flush=True)
                results.append(summary)
    record("signin_floor", {"args": vars(args), "results": results})


if __name__ == "__main__":
    main()
