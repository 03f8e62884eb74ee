"""Brute-force counters hold across processes: they live in Redis and change atomically."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx
from litestar import Litestar

from tests.support.asgi import client_of, lifespan
from wallet_api.app import create_app
from wallet_api.settings import Settings

_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    import redis.asyncio as aioredis
    from wallet_api.accounts.ratelimit import hit, use_key_names_secret
    from wallet_api.problems import TooManyRequests

    async def main(url):
        use_key_names_secret(b"one secret for every process")
        r = aioredis.from_url(url)
        allowed = 0
        for _ in range(40):
            try:
                await hit(r, "cross-process", "subject-1", limit=50, window=60)
                allowed += 1
            except TooManyRequests:
                pass
        await r.aclose()
        print(allowed)

    asyncio.run(main(sys.argv[1]))
    """
)


def test_two_processes_share_one_budget(settings: Settings) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, settings.redis_url], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    allowed = [int((p.communicate(timeout=60)[0] or "0").strip()) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    # 120 attempts from three processes against a budget of 50: exactly 50 get through.
    assert sum(allowed) == 50


async def _officer_attempt(client: httpx.AsyncClient) -> int:
    r = await client.post("/v1/officers/sign-in", json={"username": "police.hanoi", "password": "guess"})
    return r.status_code


async def test_lockout_holds_across_two_app_instances(client: httpx.AsyncClient, settings: Settings) -> None:
    second: Litestar = create_app(settings)
    async with lifespan(second):
        # The same source (127.0.0.1) reaches both instances.
        async with client_of(second, ("127.0.0.1", 50001)) as other:
            statuses = []
            for i in range(5):
                statuses.append(await _officer_attempt(client if i % 2 == 0 else other))
            assert statuses == [401] * 5
            # The fifth failure (counted across both instances) locked this source out on both.
            for c in (client, other):
                r = await c.post("/v1/officers/sign-in", json={"username": "police.hanoi", "password": "guess"})
                assert r.status_code == 429
                assert r.json()["type"].endswith("/locked-out")
        # Another source is not locked (docs/security.md: by source before by account).
        async with client_of(second, ("127.0.0.2", 50001)) as elsewhere:
            assert await _officer_attempt(elsewhere) == 401
