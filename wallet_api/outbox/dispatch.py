"""Claiming outbox rows and recording what happened to them."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import asyncpg

from wallet_api.observability.metrics import OUTBOX_EVENTS
from wallet_api.outbox.consumers import Consumer, EventFailure, OutboxEvent

__all__ = ["claim", "run_consumer_once"]

log = logging.getLogger(__name__)

# The claim moves available_at forward by the lease: until then no other worker sees the
# row, and if this worker dies the row becomes claimable again on its own.
_CLAIM = """
WITH claimable AS (
    SELECT id FROM outbox
    WHERE consumer = $1 AND state = 'pending' AND available_at <= now()
    ORDER BY available_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox o
SET available_at = now() + make_interval(secs => $3), attempts = o.attempts + 1, lease_owner = $4
FROM claimable
WHERE o.id = claimable.id
RETURNING o.id, o.topic, o.key, o.payload, o.attempts, o.created_at
"""

# Completion is fenced on the lease owner: a worker whose lease expired (and whose rows
# another worker has since claimed) cannot overwrite the newer claim's outcome.
_DONE = """
UPDATE outbox SET state = 'done', finished_at = now(), lease_owner = NULL, last_error = NULL
WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND state = 'pending'
"""

_RETRY = """
UPDATE outbox AS o
SET available_at = now() + make_interval(secs => f.delay),
    last_error = f.error,
    lease_owner = NULL,
    state = CASE WHEN f.dead THEN 'dead' ELSE 'pending' END,
    finished_at = CASE WHEN f.dead THEN now() END
FROM unnest($1::bigint[], $2::float8[], $3::text[], $4::bool[]) AS f(id, delay, error, dead)
WHERE o.id = f.id AND o.lease_owner = $5 AND o.state = 'pending'
"""


async def claim(pool: asyncpg.Pool, consumer: Consumer, owner: str, lease: float) -> list[OutboxEvent]:
    rows = await pool.fetch(_CLAIM, consumer.name, consumer.batch_size, lease, owner)
    return [OutboxEvent(r["id"], r["topic"], r["key"], r["payload"], r["attempts"], r["created_at"]) for r in rows]


async def run_consumer_once(
    pool: asyncpg.Pool,
    consumer: Consumer,
    ctx: object,
    *,
    owner: str,
    lease: float,
    max_attempts: int,
) -> int:
    """Claim one batch, hand it to the consumer, record outcomes. Returns events claimed."""
    events = await claim(pool, consumer, owner, lease)
    if not events:
        return 0
    failures: Mapping[int, EventFailure]
    try:
        failures = (await consumer.handle(events, ctx)) or {}  # type: ignore[arg-type]
    except Exception as exc:  # the handler's bug or outage must not kill the worker
        log.warning("outbox batch failed", exc_info=exc, extra={"consumer": consumer.name, "count": len(events)})
        failures = {e.id: EventFailure(f"{type(exc).__name__}") for e in events}
    done = [e.id for e in events if e.id not in failures]
    limit = consumer.max_attempts or max_attempts
    ids: list[int] = []
    delays: list[float] = []
    errors: list[str] = []
    dead: list[bool] = []
    for event in events:
        failure = failures.get(event.id)
        if failure is None:
            continue
        ids.append(event.id)
        is_dead = failure.permanent or event.attempts >= limit
        dead.append(is_dead)
        delays.append(failure.retry_in if failure.retry_in is not None else consumer.backoff(event.attempts))
        errors.append(failure.error[:500])
    async with pool.acquire() as conn, conn.transaction():
        if done:
            await conn.execute(_DONE, done, owner)
        if ids:
            await conn.execute(_RETRY, ids, delays, errors, dead, owner)
    OUTBOX_EVENTS.labels(consumer.name, "done").inc(len(done))
    if ids:
        dead_count = sum(dead)
        OUTBOX_EVENTS.labels(consumer.name, "retry").inc(len(ids) - dead_count)
        OUTBOX_EVENTS.labels(consumer.name, "dead").inc(dead_count)
    return len(events)
