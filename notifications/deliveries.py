"""Sending push and SMS deliveries, with retries, dead letters and token invalidation.

One background loop per channel (fcm, apns, sms), so a platform that is down or slow only
delays its own messages. Each pass claims a batch of due deliveries with ``FOR UPDATE SKIP
LOCKED`` (any number of workers can run it), sends them concurrently, and records every
outcome in one statement fenced on the claim's owner:

- accepted: ``sent``;
- the platform says the token is gone: the device's token is cleared (only if it is still
  the same token) and the delivery is ``skipped``, as is one whose device was revoked;
- transient failure: back to ``pending`` after an exponential backoff (or the gateway's
  Retry-After), and ``dead`` once it has had ``notify_max_attempts`` attempts;
- rejected for good: ``dead`` at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from dataclasses import dataclass

import asyncpg

from notifications.gateways import (
    Gateways,
    PushError,
    PushMessage,
    PushRejected,
    PushTokenGone,
    SmsGatewayError,
    build_gateways,
)
from notifications.metrics import DELIVERIES, DELIVERY_SECONDS, TOKENS_GONE
from notifications.templates import Language, render
from wallet_api.worker import BackgroundLoop
from wallet_api.worker_context import WorkerContext

__all__ = ["CHANNELS", "LOOPS", "deliver_once", "gateways_of"]

log = logging.getLogger(__name__)

CHANNELS = ("fcm", "apns", "sms")
_SERVICE = "notifications.gateways"
_BACKOFF_CAP = 3600.0
_SEND_TIMEOUT = 20.0

_CLAIM = """
WITH due AS (
    SELECT id FROM notification_deliveries
    WHERE channel = $1 AND state = 'pending' AND available_at <= now()
    ORDER BY available_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE notification_deliveries d
SET attempts = d.attempts + 1, available_at = now() + make_interval(secs => $3), lease_owner = $4
FROM due WHERE d.id = due.id
RETURNING d.id
"""

_DETAILS = """
SELECT d.id, d.attempts, d.notification_id, n.kind, n.category, n.params, n.about_account_id, a.language, a.phone,
       v.id AS device_id, v.push_platform, v.push_token, v.revoked_at
FROM notification_deliveries d
JOIN notifications n ON n.id = d.notification_id
JOIN account_contacts a ON a.account_id = d.account_id
LEFT JOIN devices v ON v.id = d.device_id
WHERE d.id = ANY($1::bigint[])
"""

_RECORD = """
UPDATE notification_deliveries d
SET state = o.state,
    available_at = now() + make_interval(secs => o.delay),
    last_error = o.error,
    lease_owner = NULL,
    finished_at = CASE WHEN o.state = 'pending' THEN NULL ELSE now() END
FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::text[]) AS o(id, state, delay, error)
WHERE d.id = o.id AND d.lease_owner = $5 AND d.state = 'pending'
"""

# Clear a token only if the device still has the one the gateway refused: the app may have
# registered a fresh token meanwhile.
_FORGET_TOKENS = """
UPDATE devices v SET push_token = NULL
FROM unnest($1::uuid[], $2::text[]) AS g(device_id, token)
WHERE v.id = g.device_id AND v.push_token = g.token
"""


@dataclass(frozen=True, slots=True)
class _Outcome:
    state: str  # sent | pending | dead | skipped
    delay: float = 0.0
    error: str | None = None
    gone_token: tuple[uuid.UUID, str] | None = None


def gateways_of(ctx: WorkerContext) -> Gateways:
    """This worker's gateways, built once from its settings and clients."""
    gateways = ctx.services.get(_SERVICE)
    if gateways is None:
        gateways = build_gateways(ctx.settings, ctx.http, ctx.redis)
        ctx.services[_SERVICE] = gateways
    assert isinstance(gateways, Gateways)
    return gateways


def _backoff(ctx: WorkerContext, attempts: int, retry_after: float | None) -> float:
    base = float(ctx.settings.notify_retry_base_seconds) * (2 ** max(0, attempts - 1))
    delay = min(_BACKOFF_CAP, base) * random.uniform(0.8, 1.2)  # jitter spreads retries of one outage
    return float(max(delay, retry_after or 0.0))


async def _send_one(ctx: WorkerContext, gateways: Gateways, channel: str, row: asyncpg.Record) -> _Outcome:
    language: Language = "en" if row["language"] == "en" else "vi"
    # A guardian's copy of a notice about a child: the push title and SMS say so, without a name.
    text = render(row["kind"], row["params"], language, about_child=row["about_account_id"] is not None)
    started = time.perf_counter()
    try:
        if channel == "sms":
            if not row["phone"]:
                return _Outcome("skipped", error="no phone")
            sms = text.sms or f"VNeID: {text.push}"
            await asyncio.wait_for(
                gateways.sms.send(row["phone"], sms, reference=f"notification-{row['id']}"), _SEND_TIMEOUT
            )
        else:
            token = row["push_token"]
            if row["device_id"] is None or row["revoked_at"] is not None or not token:
                return _Outcome("skipped", error="device revoked or without token")
            if row["push_platform"] != channel:
                return _Outcome("skipped", error="device moved to another platform")
            message = PushMessage(title=text.push, notification_id=row["notification_id"], category=row["category"])
            await asyncio.wait_for(gateways.push(channel).send(token, message), _SEND_TIMEOUT)
    except PushTokenGone as exc:
        return _Outcome("skipped", error=exc.reason, gone_token=(row["device_id"], row["push_token"]))
    except PushRejected as exc:
        return _Outcome("dead", error=exc.reason)
    except Exception as exc:  # any other failure (gateway down, sink's Redis gone) is worth a retry
        # Our gateway errors carry a safe reason; anything else only its type (no personal data).
        if isinstance(exc, PushError):
            reason = exc.reason
        elif isinstance(exc, SmsGatewayError):
            reason = f"sms {exc}"
        else:
            reason = type(exc).__name__
        retry_after = exc.retry_after if isinstance(exc, PushError) else None
        if row["attempts"] >= ctx.settings.notify_max_attempts:
            return _Outcome("dead", error=reason)
        return _Outcome("pending", delay=_backoff(ctx, row["attempts"], retry_after), error=reason)
    finally:
        DELIVERY_SECONDS.labels(channel).observe(time.perf_counter() - started)
    return _Outcome("sent")


async def deliver_once(ctx: WorkerContext, channel: str, *, lease: float = 60.0) -> int:
    """Claim and send one batch of ``channel``'s due deliveries; returns how many were claimed."""
    s = ctx.settings
    ids = [r["id"] for r in await ctx.pool.fetch(_CLAIM, channel, s.notify_delivery_batch, lease, ctx.worker_id)]
    if not ids:
        return 0
    rows = await ctx.pool.fetch(_DETAILS, ids)
    gateways = gateways_of(ctx)
    limit = asyncio.Semaphore(s.notify_delivery_concurrency)

    async def guarded(row: asyncpg.Record) -> _Outcome:
        async with limit:
            return await _send_one(ctx, gateways, channel, row)

    outcomes = await asyncio.gather(*(guarded(r) for r in rows))
    gone = [o.gone_token for o in outcomes if o.gone_token is not None]
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            _RECORD,
            [r["id"] for r in rows],
            [o.state for o in outcomes],
            [o.delay for o in outcomes],
            [o.error[:500] if o.error else None for o in outcomes],
            ctx.worker_id,
        )
        if gone:
            await conn.execute(_FORGET_TOKENS, [g[0] for g in gone], [g[1] for g in gone])
    tally: dict[str, int] = {}
    for o in outcomes:
        key = "retry" if o.state == "pending" else o.state
        tally[key] = tally.get(key, 0) + 1
    for outcome, n in tally.items():
        DELIVERIES.labels(channel, outcome).inc(n)
    if gone:
        TOKENS_GONE.labels(channel).inc(len(gone))
    if tally.get("dead"):
        log.warning("notification deliveries dead-lettered", extra={"channel": channel, "count": tally["dead"]})
    return len(ids)


def _loop(channel: str) -> BackgroundLoop:
    async def run_once(ctx: WorkerContext) -> int:
        return await deliver_once(ctx, channel)

    return BackgroundLoop(name=f"notifications.deliver.{channel}", run_once=run_once, idle_interval=0.5)


LOOPS: tuple[BackgroundLoop, ...] = tuple(_loop(c) for c in CHANNELS)
