"""Sending deliveries on every channel, with retries, dead letters and forgotten destinations.

One background loop per channel (notifications/channels/: fcm, apns, sms, email, ...), so a
service that is down or slow only delays its own messages. Each pass claims a batch of due
deliveries with ``FOR UPDATE SKIP LOCKED`` (any number of workers can run it), reads each
account's contact details afresh, sends concurrently, and records every outcome in one
statement fenced on the claim's owner, by the error tree of wallet_api.outbound:

- accepted: ``sent``;
- the channel no longer reaches the destination (device revoked or without a token, phone
  or address removed): ``skipped``;
- recipient gone: the channel forgets the destination (a push token is cleared only if the
  device still holds it; an e-mail address is unconfirmed) and the delivery is ``skipped``;
- transient failure: back to ``pending`` after an exponential backoff (or the service's
  Retry-After), and ``dead`` once it has had ``notify_max_attempts`` attempts;
- rejected: ``dead`` at once (recorded, never retried).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from dataclasses import dataclass

import asyncpg

from notifications.channels import PLUGINS, Channel, Contact, Destination, Device, Message
from notifications.metrics import DELIVERIES, DELIVERY_SECONDS, TOKENS_GONE
from notifications.services import CHANNELS
from notifications.templates import Language, render
from wallet_api.kernel import BackgroundLoop, RecipientGone, SendFailed, SendRejected, WorkerContext

__all__ = ["LOOPS", "deliver_once"]

log = logging.getLogger(__name__)

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
SELECT d.id, d.attempts, d.account_id, d.device_id, d.notification_id, n.kind, n.category, n.params,
       n.about_account_id, a.language, a.phone, v.push_platform, v.push_token, ad.address
FROM notification_deliveries d
JOIN notifications n ON n.id = d.notification_id
JOIN account_contacts a ON a.account_id = d.account_id
LEFT JOIN push_devices v ON v.device_id = d.device_id
LEFT JOIN notification_addresses ad ON ad.account_id = d.account_id AND ad.channel = d.channel
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


@dataclass(frozen=True, slots=True)
class _Outcome:
    state: str  # sent | pending | dead | skipped
    delay: float = 0.0
    error: str | None = None
    gone: tuple[uuid.UUID, Destination] | None = None


def _backoff(ctx: WorkerContext, attempts: int, retry_after: float | None) -> float:
    base = float(ctx.settings.notifications.retry_base_seconds) * (2 ** max(0, attempts - 1))
    delay = min(_BACKOFF_CAP, base) * random.uniform(0.8, 1.2)  # jitter spreads retries of one outage
    return float(max(delay, retry_after or 0.0))


def _destination(channel: Channel, row: asyncpg.Record) -> Destination | None:
    """Where the delivery goes now, as the channel sees the account today (None: nowhere)."""
    devices: tuple[Device, ...] = ()
    if row["device_id"] is not None and row["push_token"] and row["push_platform"]:
        devices = (Device(row["device_id"], row["push_platform"], row["push_token"]),)
    addresses = {channel.name: row["address"]} if row["address"] else {}
    contact = Contact(row["account_id"], row["phone"], devices, addresses)
    return next((d for d in channel.reach(contact) if d.device_id == row["device_id"]), None)


async def _send_one(ctx: WorkerContext, channel: Channel, row: asyncpg.Record) -> _Outcome:
    to = _destination(channel, row)
    if to is None:
        return _Outcome("skipped", error="no longer reachable on this channel")
    language: Language = "en" if row["language"] == "en" else "vi"
    # A guardian's copy of a notice about a child: the push title and SMS say so, without a name.
    text = render(row["kind"], row["params"], language, about_child=row["about_account_id"] is not None)
    message = Message(f"notification-{row['id']}", row["notification_id"], row["category"], language, text)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(channel.send(to, message), _SEND_TIMEOUT)
    except RecipientGone as exc:
        return _Outcome("skipped", error=exc.reason, gone=(row["account_id"], to))
    except SendRejected as exc:
        return _Outcome("dead", error=exc.reason)
    except Exception as exc:  # anything else (service down, local box's Redis gone) is worth a retry
        # Our send errors carry a safe reason; anything else only its type (no personal data).
        reason = exc.reason if isinstance(exc, SendFailed) else type(exc).__name__
        retry_after = exc.retry_after if isinstance(exc, SendFailed) else None
        if row["attempts"] >= ctx.settings.notifications.max_attempts:
            return _Outcome("dead", error=reason)
        return _Outcome("pending", delay=_backoff(ctx, row["attempts"], retry_after), error=reason)
    finally:
        DELIVERY_SECONDS.labels(channel.name).observe(time.perf_counter() - started)
    return _Outcome("sent")


async def deliver_once(ctx: WorkerContext, channel: str, *, lease: float = 60.0) -> int:
    """Claim and send one batch of ``channel``'s due deliveries; returns how many were claimed."""
    s = ctx.settings
    ids = [r["id"] for r in await ctx.pool.fetch(_CLAIM, channel, s.notifications.delivery_batch, lease, ctx.worker_id)]
    if not ids:
        return 0
    rows = await ctx.pool.fetch(_DETAILS, ids)
    sender = ctx.services.get(CHANNELS)[channel]
    limit = asyncio.Semaphore(s.notifications.delivery_concurrency)

    async def guarded(row: asyncpg.Record) -> _Outcome:
        async with limit:
            return await _send_one(ctx, sender, row)

    outcomes = await asyncio.gather(*(guarded(r) for r in rows))
    gone = [o.gone for o in outcomes if o.gone is not None]
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
            await sender.forget(conn, gone)
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


LOOPS: tuple[BackgroundLoop, ...] = tuple(_loop(name) for name in PLUGINS)
