"""The provider side of linking, run by workers from the outbox.

A link request (``wallet.link_requested``) is an inquiry — the wallet's owner ID must be the
citizen's, the owner's name the registry name (:mod:`payments.linking.names`) — followed by
the provider sending a consent OTP to the owner's phone. A submitted OTP
(``wallet.link_otp_submitted``) is confirmed with the provider and activates the link.

Provider calls are idempotent (inquiry reads; OTP requests and confirmations are keyed by
our link id), so an event retried after a time-out, a 5xx or a crash repeats them safely.
Rate limits are the adapter's: a request waits for the provider's shared token bucket, and
an event that cannot get one in time is retried later (``retry_in``) without calling.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from payments import events
from payments.linking import store
from payments.linking.names import names_match
from payments.providers import (
    PROVIDERS,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    UnknownProvider,
    WalletProvider,
)
from wallet_api.kernel import Consumer, EventFailure, OutboxEvent, WorkerContext

__all__ = ["LINKING_CONSUMER", "OTP_KEY", "OTP_TTL_SECONDS", "process_event"]

log = logging.getLogger(__name__)

#: Where a submitted OTP waits for the worker (Redis holds one-time codes; losing one only
#: asks the citizen to type it again).
OTP_KEY = "linking:otp:{link_id}"
OTP_TTL_SECONDS = 600
#: Wrong OTPs before the link is refused.
MAX_OTP_ATTEMPTS = 3
MAX_ATTEMPTS = 30

_INQUIRY_REFUSALS = {
    "account_not_found": "wallet_not_found",
    "account_closed": "wallet_closed",
    "account_locked": "wallet_locked",
}


class _Retry(Exception):
    def __init__(self, reason: str, retry_in: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_in = retry_in


async def _refuse(pool: asyncpg.Pool, link_id: UUID, from_states: tuple[str, ...], reason: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await store.move(conn, link_id, from_states=from_states, to="refused", reason=reason)


def _owner_refusal(link: Any, owner_person_id: str, owner_name: str) -> str | None:
    if link["person_id"] is None or owner_person_id != link["person_id"].strip():
        return "owner_id_mismatch"
    if link["full_name"] is None:
        return "registry_record_missing"
    if not names_match(link["full_name"], owner_name):
        return "owner_name_mismatch"
    return None


async def _on_requested(pool: asyncpg.Pool, provider: WalletProvider, link_id: UUID) -> None:
    link = await store.load_for_processing(pool, link_id)
    if link is None or link["state"] not in ("requested", "inquiring"):
        return
    if link["state"] == "requested":
        async with pool.acquire() as conn:
            await conn.execute(
                "UPDATE wallet_links SET state = 'inquiring', updated_at = now() WHERE id = $1 AND state = 'requested'",
                link_id,
            )
    try:
        inquiry = await provider.inquire(link["wallet_account"])
    except ProviderRejected as exc:
        await _refuse(pool, link_id, ("inquiring",), _INQUIRY_REFUSALS.get(exc.reason, "wallet_not_found"))
        return
    if inquiry.status != "active":
        await _refuse(pool, link_id, ("inquiring",), f"wallet_{inquiry.status}")
        return
    refusal = _owner_refusal(link, inquiry.owner_person_id, inquiry.owner_name)
    if refusal is not None:
        await _refuse(pool, link_id, ("inquiring",), refusal)
        return
    async with pool.acquire() as conn, conn.transaction():
        if await store.flag_many_to_one(conn, link, ("inquiring",)):
            return
    try:
        await provider.request_link_otp(link["wallet_account"], str(link_id))
    except ProviderRejected as exc:
        await _refuse(pool, link_id, ("inquiring",), _INQUIRY_REFUSALS.get(exc.reason, "provider_refused_consent"))
        return
    async with pool.acquire() as conn, conn.transaction():
        await store.move(conn, link_id, from_states=("inquiring",), to="awaiting_otp", otp_requested=True)


async def _on_otp(
    pool: asyncpg.Pool, redis: aioredis.Redis, provider: WalletProvider, link_id: UUID, cooling_off: int
) -> None:
    link = await store.load_for_processing(pool, link_id)
    if link is None or link["state"] != "confirming":
        return
    key = OTP_KEY.format(link_id=link_id)
    try:
        raw = await redis.get(key)
    except (RedisError, OSError) as exc:
        raise _Retry("redis_unavailable") from exc
    if raw is None:
        async with pool.acquire() as conn, conn.transaction():
            await store.move(conn, link_id, from_states=("confirming",), to="awaiting_otp", reason="otp_resubmit")
        return
    otp = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        await provider.confirm_link(link["wallet_account"], str(link_id), otp)
    except ProviderRejected as exc:
        await _otp_refused(pool, provider, link, exc.reason)
        await _forget(redis, key)
        return
    try:
        async with pool.acquire() as conn, conn.transaction():
            await store.activate(conn, link_id, cooling_off)
    except asyncpg.UniqueViolationError as exc:
        # Another citizen's link to this wallet became active at the same moment: the retry
        # sees it and flags both for review.
        raise _Retry("concurrent_activation", retry_in=0.5) from exc
    await _forget(redis, key)


async def _otp_refused(pool: asyncpg.Pool, provider: WalletProvider, link: Any, reason: str) -> None:
    link_id = link["id"]
    async with pool.acquire() as conn, conn.transaction():
        if reason == "otp_expired":
            moved = await store.move(
                conn, link_id, from_states=("confirming",), to="awaiting_otp", reason="otp_expired", otp_requested=True
            )
        elif reason == "otp_invalid" and link["otp_attempts"] + 1 < MAX_OTP_ATTEMPTS:
            moved = await store.move(
                conn,
                link_id,
                from_states=("confirming",),
                to="awaiting_otp",
                reason="otp_invalid",
                otp_attempts_increment=True,
            )
        else:
            await store.move(conn, link_id, from_states=("confirming",), to="refused", reason="otp_failed")
            return
    if reason == "otp_expired" and moved is not None:
        # A fresh code goes to the owner's phone. If this call fails the citizen's next
        # attempt is answered "expired" again, which asks for another code: no retry needed.
        try:
            await provider.request_link_otp(link["wallet_account"], str(link_id))
        except ProviderError:
            log.info("could not resend a link OTP", extra={"provider": provider.code})


async def _forget(redis: aioredis.Redis, key: str) -> None:
    try:
        await redis.delete(key)
    except (RedisError, OSError):
        log.info("could not delete a used link OTP; it expires on its own")


async def _give_up(pool: asyncpg.Pool, link_id: UUID, reason: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await store.move(
            conn, link_id, from_states=("requested", "inquiring", "confirming"), to="failed", reason=reason
        )


async def process_event(event: OutboxEvent, ctx: WorkerContext) -> EventFailure | None:
    """Handle one linking event; a failure to retry, or None when done."""
    call = events.read_link_call(event.payload)
    link_id = call.link_id
    final = event.attempts >= MAX_ATTEMPTS
    try:
        provider = ctx.services.get(PROVIDERS).get(call.provider)
        if event.topic == events.LINK_REQUESTED:
            await _on_requested(ctx.pool, provider, link_id)
        else:
            await _on_otp(ctx.pool, ctx.redis, provider, link_id, ctx.settings.accounts.payout_cooling_off_seconds)
    except UnknownProvider:
        await _give_up(ctx.pool, link_id, "provider_not_configured")
    except ProviderRateLimited as exc:
        if final:
            await _give_up(ctx.pool, link_id, "provider_busy")
            return None
        # Spread the retries so that a surge does not come back as one wave.
        return EventFailure("rate_limited", retry_in=exc.retry_after + random.uniform(0, exc.retry_after))
    except (ProviderUnavailable, _Retry) as exc:
        if final:
            await _give_up(ctx.pool, link_id, "provider_unavailable")
            return None
        retry_in = exc.retry_in if isinstance(exc, _Retry) else None
        return EventFailure(type(exc).__name__, retry_in=retry_in)
    except ProviderError as exc:
        log.error("provider error while linking", extra={"provider": call.provider})
        if final:
            await _give_up(ctx.pool, link_id, "provider_error")
            return None
        return EventFailure(type(exc).__name__)
    return None


async def _handle(events: list[OutboxEvent], ctx: WorkerContext) -> Mapping[int, EventFailure] | None:
    results = await asyncio.gather(*(process_event(e, ctx) for e in events), return_exceptions=True)
    failures: dict[int, EventFailure] = {}
    for event, result in zip(events, results, strict=True):
        if isinstance(result, BaseException):
            log.warning("linking event failed", exc_info=result, extra={"event_id": event.id})
            failures[event.id] = EventFailure(type(result).__name__)
        elif result is not None:
            failures[event.id] = result
    return failures


LINKING_CONSUMER = Consumer(
    name="linking-provider-calls",
    topics=(events.LINK_REQUESTED, events.LINK_OTP_SUBMITTED),
    handle=_handle,
    # Provider calls are slow (hundreds of ms): a batch runs them concurrently.
    batch_size=100,
    max_attempts=MAX_ATTEMPTS + 1,
    backoff_base=1.0,
    backoff_cap=60.0,
    lease_seconds=90.0,
)
