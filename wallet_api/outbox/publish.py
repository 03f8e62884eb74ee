"""Appending events to the outbox inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from wallet_api.outbox.consumers import consumers_for

__all__ = ["publish", "publish_many"]

_INSERT = """
INSERT INTO outbox (topic, consumer, key, payload, available_at)
SELECT $1, consumer, $2, $3::jsonb, coalesce($4, now()) FROM unnest($5::text[]) AS consumer
"""


def _insert_many(first: int) -> str:
    """The bulk insert with its four parameters numbered from ``first``."""
    topic, keys, payloads, consumers = (f"${first + i}" for i in range(4))
    return f"""
INSERT INTO outbox (topic, consumer, key, payload)
SELECT {topic}, c.consumer, e.key, e.payload
FROM unnest({keys}::text[], {payloads}::jsonb[]) AS e(key, payload)
CROSS JOIN unnest({consumers}::text[]) AS c(consumer)
"""


_INSERT_MANY = _insert_many(1)


async def publish(
    conn: asyncpg.Connection,
    topic: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    available_at: datetime | None = None,
) -> int:
    """Append one event for every consumer of ``topic``; returns the number of rows.

    Call it with the connection of the transaction that makes the change the event
    describes: both commit or neither does.
    """
    consumers = consumers_for(topic)
    if not consumers:
        return 0
    await conn.execute(_INSERT, topic, key, payload, available_at, consumers)
    return len(consumers)


async def publish_many(
    conn: asyncpg.Connection | asyncpg.Pool,
    topic: str,
    events: Iterable[tuple[str | None, dict[str, Any]]],
    *,
    along: tuple[str, Sequence[Any]] | None = None,
) -> int:
    """Append many events of one topic in a single statement (bulk operations).

    ``along`` is a data-modifying statement and its arguments (``$1``…``$n``), run in the
    same statement as the events (a ``WITH`` clause): the change and its events commit
    together in one round trip, with no transaction of their own (``conn`` may then be
    the pool).
    """
    consumers = consumers_for(topic)
    keys: list[str | None] = []
    payloads: list[dict[str, Any]] = []
    for key, payload in events:
        keys.append(key)
        payloads.append(payload)
    if not (consumers and keys):
        if along is not None:
            await conn.execute(along[0], *along[1])
        return 0
    if along is None:
        await conn.execute(_INSERT_MANY, topic, keys, payloads, consumers)
    else:
        sql, args = along
        await conn.execute(
            f"WITH along AS ({sql}) {_insert_many(len(args) + 1)}", *args, topic, keys, payloads, consumers
        )
    return len(keys) * len(consumers)
