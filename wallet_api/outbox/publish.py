"""Appending events to the outbox inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg

from wallet_api.outbox.routing import OutboxRoutes, declared_routes

__all__ = ["insert_events", "publish", "publish_many"]

_INSERT = """
INSERT INTO outbox (topic, consumer, key, payload, available_at)
SELECT $1, consumer, $2, $3::jsonb, coalesce($4, now()) FROM unnest($5::text[]) AS consumer
"""


def insert_events(events: str, *, topic: str, consumers: str) -> str:
    """SQL appending one outbox row per event and consumer, to run inside a larger statement.

    ``events`` is a FROM item yielding two columns, the key (text) and the payload
    (jsonb), one row per event; ``topic`` and ``consumers`` (a ``text[]``) are SQL
    expressions, usually parameters. A statement that changes rows and appends their
    events with this (as a ``WITH`` member) commits both together in one round trip.
    """
    return f"""
INSERT INTO outbox (topic, consumer, key, payload)
SELECT {topic}, c.consumer, e.key, e.payload
FROM {events} AS e(key, payload)
CROSS JOIN unnest({consumers}::text[]) AS c(consumer)
"""


_INSERT_MANY = insert_events("unnest($2::text[], $3::jsonb[])", topic="$1", consumers="$4")


async def publish(
    conn: asyncpg.Connection,
    topic: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    available_at: datetime | None = None,
    routes: OutboxRoutes | None = None,
) -> int:
    """Append one event for every consumer of ``topic``; returns the number of rows.

    Call it with the connection of the transaction that makes the change the event
    describes: both commit or neither does. The consumers are those the domains declare
    (``routes``: others, for tests of the outbox itself).
    """
    consumers = (routes or declared_routes()).consumers_for(topic)
    if not consumers:
        return 0
    await conn.execute(_INSERT, topic, key, payload, available_at, consumers)
    return len(consumers)


async def publish_many(
    conn: asyncpg.Connection,
    topic: str,
    events: Iterable[tuple[str | None, dict[str, Any]]],
    *,
    routes: OutboxRoutes | None = None,
) -> int:
    """Append many events of one topic in a single statement (bulk operations)."""
    consumers = (routes or declared_routes()).consumers_for(topic)
    if not consumers:
        return 0
    keys: list[str | None] = []
    payloads: list[dict[str, Any]] = []
    for key, payload in events:
        keys.append(key)
        payloads.append(payload)
    if not keys:
        return 0
    await conn.execute(_INSERT_MANY, topic, keys, payloads, consumers)
    return len(keys) * len(consumers)
