"""Provider faults cost time, never throughput for everyone else (review, throughput under
faults): a hung reply holds only its own chunk, a refused connection is simply retried, and
the not-found grace counts from the latest send (and not at all after an answered 5xx)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from payments.disbursement import dispatch
from payments.disbursement.dispatch import PAYOUT_PIPELINE, dispatch_once, recover_once
from payments.disbursement.domain import DOMAIN
from payments.providers import PROVIDERS, ProviderRegistry
from payments.providers.adapters.http import HttpWalletProvider
from payments.providers.base import (
    PayoutItem,
    ProviderAnswered,
    ProviderUnavailable,
    ProviderUnreachable,
)
from payments.providers.config import ProviderConfig
from payments.providers.ratelimit import ProviderRateLimiter
from tests.disbursement.conftest import Agency, add_residents, csv_body, enrol, make_programme, released_batch
from tests.disbursement.ledger_checks import assert_every_account_settles
from tests.disbursement.local_provider import LocalProvider, LocalRegistry
from tests.support.settings import replaced
from wallet_api.settings import Settings
from wallet_api.worker_context import WorkerContext


async def _setup(client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, n: int, **kw: Any) -> uuid.UUID:
    people = await add_residents(db, n, **kw)
    programme = await make_programme(client, agency)
    await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", "r") for p in people]))
    await released_batch(client, agency, programme["id"], n, n * 500_000)
    return uuid.UUID(programme["id"])


async def _states(db: asyncpg.Pool) -> dict[str, int]:
    return {r["state"]: r["n"] for r in await db.fetch("SELECT state, count(*) AS n FROM payments GROUP BY 1")}


def _dead_port() -> int:
    """A local port nothing listens on: connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_adapter_tells_a_refused_connection_and_an_answered_5xx_from_an_unknown_outcome(
    settings: Settings, redis: aioredis.Redis
) -> None:
    def adapter(base_url: str, transport: Any = None) -> HttpWalletProvider:
        config = ProviderConfig.from_mapping(
            {"code": "momo", "name": "MoMo", "base_url": base_url, "api_key": "k", "webhook_secret": "s"}
        )
        limiter = ProviderRateLimiter(
            redis,
            config.code,
            rate=config.rate_limit_per_second,
            burst=config.burst,
            max_wait=config.max_wait_seconds,
            fallback_share=config.fallback_share,
        )
        return HttpWalletProvider(config, limiter, transport=transport)

    item = [PayoutItem(str(uuid.uuid4()), "w", 1, "x")]
    refused = adapter(f"http://127.0.0.1:{_dead_port()}")
    with pytest.raises(ProviderUnreachable):
        await refused.payout(item)
    await refused.aclose()
    for status, raised in ((503, ProviderAnswered), (500, ProviderAnswered), (504, ProviderUnavailable)):
        answering = adapter("http://provider.test", httpx.MockTransport(lambda _, s=status: httpx.Response(s)))
        with pytest.raises(raised) as caught:
            await answering.payout(item)
        assert status != 504 or not isinstance(caught.value, ProviderAnswered | ProviderUnreachable)
        await answering.aclose()


async def test_a_refused_connection_puts_the_payments_back_to_be_sent_again_without_asking(
    client: httpx.AsyncClient,
    agency: Agency,
    db: asyncpg.Pool,
    worker_ctx: WorkerContext,
    settings: Settings,
    redis: aioredis.Redis,
) -> None:
    await _setup(client, agency, db, 5, provider="momo")
    down = ProviderRegistry(replaced(settings, provider_sim_url=f"http://127.0.0.1:{_dead_port()}"), redis)
    try:
        await dispatch_once(worker_ctx.replaced(services={PROVIDERS: down}))
    finally:
        await down.aclose()
    assert await _states(db) == {"approved": 5}  # not 'unknown': nothing to ask, nothing to wait for
    reasons = await db.fetch("SELECT DISTINCT reason FROM payment_transitions WHERE from_state = 'sending'")
    assert [r["reason"] for r in reasons] == ["provider_unreachable"]
    momo = LocalProvider(code="momo")
    ctx = worker_ctx.replaced(services={PROVIDERS: LocalRegistry(momo)})
    await dispatch_once(ctx)
    assert await _states(db) == {"succeeded": 5}
    assert momo.status_queries == 0 and max(momo.executions.values()) == 1


async def test_a_hung_reply_holds_only_its_own_chunk_while_the_worker_keeps_claiming(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext
) -> None:
    provider = LocalProvider(bulk_size=2, hang=asyncio.Event(), hang_calls=1)
    ctx = worker_ctx.replaced(
        services={PROVIDERS: LocalRegistry(provider)},
        settings=replaced(worker_ctx.settings, payout_lanes=1, payout_claim_size=4),
    )
    programme_id = await _setup(client, agency, db, 10)
    dispatching = next(loop for loop in DOMAIN.loops if loop.name == "payment-dispatch")
    async with asyncio.timeout(120):  # a bound for a broken build, not a measure of speed
        while (await _states(db)).get("succeeded", 0) < 8:
            if not await dispatching.run_once(ctx):
                await asyncio.sleep(0.05)
        assert await _states(db) == {"succeeded": 8, "sending": 2}  # the hung chunk only
        provider.hang.set()  # type: ignore[union-attr]
        while (await _states(db)).get("succeeded", 0) < 10:
            if not await dispatching.run_once(ctx):
                await asyncio.sleep(0.05)
    await ctx.services.get(PAYOUT_PIPELINE).aclose()
    assert max(provider.executions.values()) == 1 and len(provider.executions) == 10
    await assert_every_account_settles(db, programme_id)


async def test_the_not_found_grace_counts_from_the_latest_send(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext
) -> None:
    provider = LocalProvider(timeout_before=1.0)
    ctx = worker_ctx.replaced(services={PROVIDERS: LocalRegistry(provider)})
    await _setup(client, agency, db, 1)
    await dispatch_once(ctx)  # lost before the provider saw it
    # Long after that first send, the provider says it never saw it: resent.
    await db.execute(
        "UPDATE payments SET first_sent_at = now() - interval '1 hour', last_sent_at = now() - interval '1 hour',"
        " next_check_at = now()"
    )
    await recover_once(ctx)
    assert await _states(db) == {"approved": 1}
    await dispatch_once(ctx)  # the resend is lost too, just now
    await db.execute("UPDATE payments SET next_check_at = now()")
    await recover_once(ctx)  # "not found" again, but the latest send may still be on its way
    assert await _states(db) == {"unknown": 1}
    assert provider.requests == 2


async def test_a_5xx_the_provider_answered_is_sent_again_after_a_not_found_without_the_grace(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext
) -> None:
    provider = LocalProvider(server_error=1.0)
    ctx = worker_ctx.replaced(services={PROVIDERS: LocalRegistry(provider)})
    programme_id = await _setup(client, agency, db, 3)
    await dispatch_once(ctx)
    assert await _states(db) == {"unknown": 3}
    provider.server_error = 0.0
    await db.execute("UPDATE payments SET next_check_at = now()")
    await recover_once(ctx)  # not found: the 503 ended that request, so resend now
    assert await _states(db) == {"approved": 3}
    await dispatch_once(ctx)
    assert await _states(db) == {"succeeded": 3}
    assert max(provider.executions.values()) == 1
    await assert_every_account_settles(db, programme_id)


async def test_payments_of_a_provider_held_off_are_left_for_later_and_others_still_go(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext
) -> None:
    await _setup(client, agency, db, 2, provider="momo")
    await _setup(client, agency, db, 2)
    ctx = worker_ctx.replaced(services={PROVIDERS: LocalRegistry(LocalProvider(), LocalProvider("momo"))})
    claimed = await dispatch._claim(ctx, skip=["momo"])
    assert {c.provider for c in claimed} == {"localpay"} and len(claimed) == 2
