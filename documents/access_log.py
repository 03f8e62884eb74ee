"""The holder's access log, written in groups: one transaction for many verifications.

Every verification writes a row to ``document_views`` and a ``document.viewed`` event, and
the verifier gets its answer only after both are committed. Written one per request, each
verification paid for its own commit (a WAL flush, and PostgreSQL serialises the commits
of transactions that NOTIFY, which the outbox trigger does), and that capped verifications
far below what the rest of the path could do.

So each API process keeps one writer. A request hands over its row and waits; while a
write is in flight, the rows that arrive meanwhile queue up and go together in the next
transaction, with the events appended by :func:`wallet_api.outbox.publish_many`. At low
load a write carries one row and adds no delay; under load the batches grow by
themselves. If a batch fails, its rows are retried one by one, so that one bad row (a
document deleted a moment ago) fails only its own request.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from wallet_api.outbox import publish_many

__all__ = ["AccessLogWriter", "View", "writer_for"]

_MAX_BATCH = 500

_INSERT = """
INSERT INTO document_views (document_id, account_id, verifier_org_id, verifier, channel, fields, outcome)
SELECT v.document_id, v.account_id, v.verifier_org_id, v.verifier, v.channel,
       ARRAY(SELECT jsonb_array_elements_text(v.fields::jsonb)), v.outcome
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
     AS v(document_id, account_id, verifier_org_id, verifier, channel, fields, outcome)
"""


@dataclass(frozen=True)
class View:
    """One verification as the holder will see it in the access log."""

    document_id: str
    account_id: str | None
    doc_type: str
    verifier_org_id: str | None
    verifier: str  # the caller's key (client or officer), for the agency's own audit
    verifier_name: str | None
    channel: str
    fields: tuple[str, ...]
    outcome: str

    def event(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "document_id": self.document_id,
            "doc_type": self.doc_type,
            "verifier_org_id": self.verifier_org_id,
            "verifier_name": self.verifier_name,
            "fields": list(self.fields),
            "channel": self.channel,
            "outcome": self.outcome,
        }


async def _write(pool: asyncpg.Pool, views: list[View]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            _INSERT,
            [v.document_id for v in views],
            [v.account_id for v in views],
            [v.verifier_org_id for v in views],
            [v.verifier for v in views],
            [v.channel for v in views],
            # As JSON text: a list of lists would bind as one two-dimensional array.
            [json.dumps(list(v.fields)) for v in views],
            [v.outcome for v in views],
        )
        await publish_many(conn, "document.viewed", ((v.document_id, v.event()) for v in views))


class AccessLogWriter:
    """Group commit for access-log rows; :meth:`record` returns once its row is committed."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = _MAX_BATCH) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._pending: list[tuple[View, asyncio.Future[None]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def record(self, view: View) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((view, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        # Shielded: a client that hangs up must not cancel the write other rows share.
        await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            try:
                await _write(self._pool, [view for view, _ in batch])
            except Exception:
                await self._one_by_one(batch)
            else:
                _settle(batch)

    async def _one_by_one(self, batch: list[tuple[View, asyncio.Future[None]]]) -> None:
        for view, future in batch:
            try:
                await _write(self._pool, [view])
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                _settle([(view, future)])


def _settle(batch: list[tuple[View, asyncio.Future[None]]]) -> None:
    for _, future in batch:
        if not future.done():
            future.set_result(None)


# Keyed by id (asyncpg pools take no weak references); the pool is kept beside its writer
# so that an id reused by a later pool cannot pick up the wrong writer.
_writers: dict[int, tuple[asyncpg.Pool, AccessLogWriter]] = {}


def writer_for(pool: asyncpg.Pool) -> AccessLogWriter:
    """The process's writer for ``pool`` (one per pool, so one per process in production)."""
    entry = _writers.get(id(pool))
    if entry is None or entry[0] is not pool:
        entry = _writers[id(pool)] = (pool, AccessLogWriter(pool))
    return entry[1]
