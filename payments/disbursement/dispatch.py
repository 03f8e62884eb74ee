"""The payment workers: send approved payments exactly once, resolve the unknown ones.

Sending, step by step:

1. Claim: one transaction moves up to ``payout_claim_size`` approved payments to 'sending'
   (``FOR UPDATE SKIP LOCKED``, so workers never share a row), records a lease, and posts
   reserved → in-flight. A payment whose person the registry now lists as deceased is held
   instead. Commit: from here on, the payment may have been sent.
2. Send: per provider, in the provider's bulk size, each chunk by its own task: a worker
   keeps up to ``payout_lanes × payout_claim_size`` payments in flight and claims more as
   soon as any chunk is recorded, so one hung reply holds only its own chunk. The adapter
   keeps to the provider's rate limit across all workers (a token bucket in Redis) and
   answers 429 itself when the wait would be too long.
3. Record: a definite answer settles (succeeded → paid) or returns (failed) the money.
   A time-out, 5xx or any error leaves the outcome **unknown**; a 429 or a connection that
   could not be made means the provider never got the request, so the payments go back to
   'approved' and the worker leaves that provider alone for a moment (backing off while
   connections keep failing) instead of claiming its payments again at once.

A worker that dies after step 1 leaves 'sending' rows whose lease runs out; the recovery
loop marks them unknown. Unknown payments are resolved only by asking the provider
(``payout_status``): paid, failed, still pending (ask again later) or never seen (sent
again with the same id, which the provider deduplicates, once the latest send can no
longer be in progress at the provider: it was answered, even with an error, or the grace
period has passed since it was sent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

import asyncpg

from payments.disbursement import ledger, machine
from payments.providers import PROVIDERS, UnknownProvider
from payments.providers.base import (
    PayoutItem,
    PayoutResult,
    PayoutStatus,
    ProviderAnswered,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderUnreachable,
    WalletProvider,
)
from wallet_api.kernel import ServiceFactory, WorkerContext

__all__ = ["PAYOUT_PIPELINE", "dispatch_continuously", "dispatch_once", "recover_once"]

log = logging.getLogger(__name__)

_CLAIM = """
SELECT p.id, p.provider, (pop.status IS DISTINCT FROM 'alive') AS dead
FROM payments p
LEFT JOIN population pop ON pop.person_id = p.person_id
WHERE p.state = 'approved' AND p.provider <> ALL($2::text[])
ORDER BY p.provider, p.id
LIMIT $1
FOR UPDATE OF p SKIP LOCKED
"""

_CLAIM_UNKNOWN = """
WITH c AS (
    SELECT id FROM payments WHERE state = 'unknown' AND next_check_at <= now()
    ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED
)
UPDATE payments p SET next_check_at = now() + make_interval(secs => $2), status_checks = p.status_checks + 1
FROM c WHERE p.id = c.id
RETURNING p.id, p.provider, p.status_checks, p.amount,
          extract(epoch FROM now() - coalesce(p.last_sent_at, p.first_sent_at, now()))::float8 AS sent_seconds_ago,
          coalesce(p.answered_at >= p.last_sent_at, false) AS answered
"""


def _adapters(ctx: WorkerContext, codes: set[str]) -> dict[str, WalletProvider]:
    """The adapters of those providers this worker can reach: a payment for any other stays
    where it is, for a worker that can."""
    registry = ctx.services.get(PROVIDERS)
    found: dict[str, WalletProvider] = {}
    for code in codes:
        try:
            found[code] = registry.get(code)
        except UnknownProvider:
            continue
    return found


@dataclass(frozen=True)
class _Claimed:
    id: UUID
    provider: str
    wallet_account: str
    amount: int
    description: str


async def _claim(ctx: WorkerContext, limit: int | None = None, skip: Sequence[str] = ()) -> list[_Claimed]:
    """Claim up to ``limit`` approved payments, except those of the providers in ``skip``."""
    s = ctx.settings
    async with ctx.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_CLAIM, limit or s.payouts.claim_size, list(skip))
        if not rows:
            return []
        dead = [r["id"] for r in rows if r["dead"]]
        # Payments for a provider this worker cannot reach stay approved for another worker.
        reachable = _adapters(ctx, {r["provider"] for r in rows})
        ready = [r["id"] for r in rows if not r["dead"] and r["provider"] in reachable]
        if dead:
            await machine.act_as(conn, f"worker:{ctx.worker_id}", "registry_reports_death")
            await machine.hold_deceased_at_claim(conn, dead)
        if not ready:
            return []
        await machine.act_as(conn, f"worker:{ctx.worker_id}")
        claimed = await machine.claim(conn, ready, ctx.worker_id, float(s.payouts.lease_seconds))
        await ledger.post_payments(conn, "send", ready)
    return [_Claimed(r["id"], r["provider"], r["wallet_account"], r["amount"], r["description"]) for r in claimed]


def _chunks(ctx: WorkerContext, claimed: Sequence[_Claimed]) -> Iterator[tuple[WalletProvider, list[_Claimed]]]:
    by_provider: dict[str, list[_Claimed]] = defaultdict(list)
    for c in claimed:
        by_provider[c.provider].append(c)
    registry = ctx.services.get(PROVIDERS)
    for code, items in by_provider.items():
        provider = registry.get(code)  # configured: checked at claim
        size = max(1, provider.bulk_size)
        for i in range(0, len(items), size):
            yield provider, items[i : i + size]


#: What a send tells the dispatcher about its provider.
_Sent = Literal["answered", "rate_limited", "unreachable"]

#: Seconds a provider that refused connections is left alone: doubled while it keeps refusing.
_UNREACHABLE_BACKOFF = (0.25, 4.0)


@dataclass
class _Pipeline:
    """The payouts a worker process has in flight, each chunk sent by its own task."""

    sending: set[asyncio.Task[None]] = field(default_factory=set)
    in_flight: int = 0
    #: Provider code → monotonic time before which its payments are not claimed.
    resume_at: dict[str, float] = field(default_factory=dict)
    backoff: dict[str, float] = field(default_factory=dict)

    def held_off(self) -> list[str]:
        now = time.monotonic()
        return [code for code, at in self.resume_at.items() if at > now]

    def start(self, ctx: WorkerContext, claimed: Sequence[_Claimed]) -> None:
        for provider, chunk in _chunks(ctx, claimed):
            self.in_flight += len(chunk)
            task = asyncio.create_task(self._send(ctx, provider, chunk))
            self.sending.add(task)
            task.add_done_callback(self.sending.discard)

    async def _send(self, ctx: WorkerContext, provider: WalletProvider, chunk: Sequence[_Claimed]) -> None:
        try:
            sent, retry_after = await _send_chunk(ctx, provider, chunk)
        except Exception as exc:  # the lease runs out, then a status query decides
            log.warning("recording a payout failed", exc_info=exc, extra={"provider": provider.code})
            return
        finally:
            self.in_flight -= len(chunk)
        now = time.monotonic()
        if sent == "answered":
            self.backoff.pop(provider.code, None)
        elif sent == "rate_limited":
            self.resume_at[provider.code] = max(self.resume_at.get(provider.code, 0.0), now + retry_after)
        else:
            first, most = _UNREACHABLE_BACKOFF
            delay = min(most, self.backoff.get(provider.code, first / 2) * 2)
            self.backoff[provider.code] = delay
            self.resume_at[provider.code] = max(self.resume_at.get(provider.code, 0.0), now + delay)

    async def drain(self) -> None:
        while self.sending:
            await asyncio.wait(set(self.sending))

    async def aclose(self) -> None:
        """At worker shutdown: let the sends in flight record their outcome (bounded), then stop."""
        if self.sending:
            await asyncio.wait(set(self.sending), timeout=10.0)
        for task in self.sending:
            task.cancel()


#: The worker's payouts in flight, one pipeline per process, closed with it.
PAYOUT_PIPELINE = ServiceFactory("payout-pipeline", lambda services: _Pipeline())


async def dispatch_continuously(ctx: WorkerContext) -> int:
    """The ``payment-dispatch`` loop: keep up to ``payout_lanes × payout_claim_size`` payments in
    flight, claiming again whenever a chunk's outcome is recorded; returns 0 when idle.

    A lane never waits for its slowest reply: a hung request holds only its own chunk (until
    the adapter's time-out), while the rest of the worker keeps claiming and sending.
    """
    pipeline = ctx.services.get(PAYOUT_PIPELINE)
    s = ctx.settings
    room = max(1, s.payouts.lanes) * max(1, s.payouts.claim_size)
    claimed = 0
    while pipeline.in_flight < room:
        lot = await _claim(ctx, min(s.payouts.claim_size, room - pipeline.in_flight), pipeline.held_off())
        if not lot:
            break
        pipeline.start(ctx, lot)
        claimed += len(lot)
    if claimed:
        return claimed
    if pipeline.in_flight >= room:
        await asyncio.wait(set(pipeline.sending), return_when=asyncio.FIRST_COMPLETED)
        return 1  # room again: claim at once
    return 0


async def dispatch_once(ctx: WorkerContext) -> int:
    """One round: claim up to ``payout_lanes`` lots, send them, and return once every outcome
    is recorded (a single pass; tests drive the state machine with it)."""
    pipeline = _Pipeline()
    claimed = 0
    for _ in range(max(1, ctx.settings.payouts.lanes)):
        lot = await _claim(ctx)
        if not lot:
            break
        pipeline.start(ctx, lot)
        claimed += len(lot)
    await pipeline.drain()
    return claimed


async def _send_chunk(ctx: WorkerContext, provider: WalletProvider, items: Sequence[_Claimed]) -> tuple[_Sent, float]:
    ids = [c.id for c in items]
    try:
        results = await provider.payout(
            [PayoutItem(str(c.id), c.wallet_account, c.amount, c.description) for c in items]
        )
    except (ProviderRateLimited, ProviderUnreachable) as exc:
        # The provider never got the request (a 429, or no connection was made): send it again later.
        limited = isinstance(exc, ProviderRateLimited)
        async with ctx.pool.acquire() as conn, conn.transaction():
            await machine.act_as(conn, f"worker:{ctx.worker_id}")
            await machine.requeue(conn, ids, ctx.worker_id, "rate_limited" if limited else "provider_unreachable")
        if isinstance(exc, ProviderRateLimited):
            return "rate_limited", min(exc.retry_after, 10.0)
        return "unreachable", 0.0
    except (ProviderError, OSError, TimeoutError) as exc:
        # Time-out, 5xx, a dropped connection, or anything else: we do not know what happened.
        # A 5xx the provider itself answered ended the request there: ask soon, and believe
        # a "not found" at once.
        answered = isinstance(exc, ProviderAnswered)
        reason = "provider_unavailable" if isinstance(exc, ProviderUnavailable) else type(exc).__name__
        log.warning("payout outcome unknown", extra={"provider": provider.code, "count": len(ids), "reason": reason})
        async with ctx.pool.acquire() as conn, conn.transaction():
            await machine.act_as(conn, f"worker:{ctx.worker_id}")
            await machine.mark_unknown(conn, ids, ctx.worker_id, reason, 1.0 if answered else 5.0, answered=answered)
        return "answered", 0.0
    await _record_results(ctx, ids, results)
    return "answered", 0.0


async def _record_results(ctx: WorkerContext, sent: Sequence[UUID], results: Sequence[PayoutResult]) -> None:
    by_id = {r.payment_id: r for r in results}
    ok_ids, ok_refs, failed_ids, failed_reasons, pending, missing = [], [], [], [], [], []
    for pid in sent:
        r = by_id.get(str(pid))
        if r is None:
            missing.append(pid)
        elif r.outcome == "succeeded":
            ok_ids.append(pid)
            ok_refs.append(r.provider_ref)
        elif r.outcome == "failed":
            failed_ids.append(pid)
            failed_reasons.append(r.reason or "rejected")
        else:
            pending.append(pid)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await machine.act_as(conn, f"worker:{ctx.worker_id}", durable=False)
        await machine.mark_succeeded(conn, ok_ids, ok_refs)
        await machine.mark_failed(conn, failed_ids, failed_reasons)
        # Accepted but not final: a callback will settle it, or the lease runs out and we ask.
        if pending:
            await conn.execute(
                """UPDATE payments SET lease_owner = NULL, lease_until = now() + make_interval(secs => $2)
                   WHERE id = ANY($1::uuid[]) AND state = 'sending'""",
                pending,
                float(ctx.settings.payouts.lease_seconds),
            )
        await machine.mark_unknown(conn, missing, ctx.worker_id, "no_result_for_item", 5.0)


async def recover_once(ctx: WorkerContext) -> int:
    """Turn expired leases into unknown payments, and ask providers about unknown ones."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        await machine.act_as(conn, f"worker:{ctx.worker_id}", "lease_expired")
        expired = await machine.expire_leases(conn, 1000)
    async with ctx.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_CLAIM_UNKNOWN, 200, float(ctx.settings.payouts.lease_seconds))
    if not rows:
        return expired
    sem = asyncio.Semaphore(16)

    async def ask(provider: WalletProvider, pid: UUID) -> PayoutStatus | None:
        async with sem:
            try:
                return await provider.payout_status(str(pid))
            except (ProviderError, OSError, TimeoutError):
                return None

    reachable = _adapters(ctx, {r["provider"] for r in rows})
    asks = []
    for r in rows:
        provider = reachable.get(r["provider"])
        asks.append(ask(provider, r["id"]) if provider is not None else asyncio.sleep(0, None))
    answers = await asyncio.gather(*asks)
    await _apply_statuses(ctx, rows, answers)
    return expired + len(rows)


async def _apply_statuses(
    ctx: WorkerContext, rows: Sequence[asyncpg.Record], answers: Sequence[PayoutStatus | None]
) -> None:
    s = ctx.settings
    ok_ids, ok_refs, failed_ids, failed_reasons, resend, review = [], [], [], [], [], []
    later: list[tuple[UUID, float]] = []
    for row, answer in zip(rows, answers, strict=True):
        checks = int(row["status_checks"])
        if answer is not None and answer.state == "succeeded":
            ok_ids.append(row["id"])
            ok_refs.append(answer.provider_ref)
        elif answer is not None and answer.state == "failed":
            failed_ids.append(row["id"])
            failed_reasons.append(answer.reason or "failed")
        elif checks >= s.payouts.status_max_checks:
            review.append(row["id"])
        elif (
            answer is not None
            and answer.state == "not_found"
            and (row["answered"] or row["sent_seconds_ago"] >= s.payouts.not_found_grace_seconds)
        ):
            resend.append(row["id"])
        else:
            later.append((row["id"], float(min(300, 2 ** min(checks, 8)))))
    async with ctx.pool.acquire() as conn, conn.transaction():
        await machine.act_as(conn, f"worker:{ctx.worker_id}", "status_query")
        await machine.mark_succeeded(conn, ok_ids, ok_refs)
        await machine.mark_failed(conn, failed_ids, failed_reasons)
        await machine.requeue(conn, resend, None, "not_found_at_provider")
        await machine.give_up(conn, review, "status_unresolved")
        if later:
            await conn.execute(
                """UPDATE payments p SET next_check_at = now() + make_interval(secs => l.delay)
                   FROM unnest($1::uuid[], $2::float8[]) AS l(id, delay)
                   WHERE p.id = ANY($1::uuid[]) AND p.id = l.id AND p.state = 'unknown'""",
                [x[0] for x in later],
                [x[1] for x in later],
            )
