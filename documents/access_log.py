"""The holder's access log, written in groups: one transaction for many verifications.

Every verification writes a row to ``document_views`` and a ``document.viewed`` event, and
the verifier gets its answer only after both are committed. Written one per request, each
verification paid for its own commit (a WAL flush, and PostgreSQL serialises the commits
of transactions that NOTIFY, which the outbox trigger does), and that capped verifications
far below what the rest of the path could do.

So each API process keeps one writer (a :class:`wallet_api.batching.Batcher`). A request
hands over its row and waits; while a write is in flight, the rows that arrive meanwhile
queue up and go together in the next one: a single statement that inserts the rows and
appends their events (:func:`wallet_api.outbox.publish_many` with ``along``). At low load
a write carries one row and adds no delay; under load the batches grow by themselves. If
a batch fails, its rows are retried one by one, so that one bad row (a document deleted a
moment ago) fails only its own request.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from wallet_api.batching import Batcher, for_owner
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


async def _write(pool: asyncpg.Pool, views: list[View]) -> list[None]:
    # One statement for the rows and their events: atomic without BEGIN and COMMIT of its
    # own, so a batch costs one round trip.
    await publish_many(
        pool,
        "document.viewed",
        ((v.document_id, v.event()) for v in views),
        along=(
            _INSERT,
            (
                [v.document_id for v in views],
                [v.account_id for v in views],
                [v.verifier_org_id for v in views],
                [v.verifier for v in views],
                [v.channel for v in views],
                # As JSON text: a list of lists would bind as one two-dimensional array.
                [json.dumps(list(v.fields)) for v in views],
                [v.outcome for v in views],
            ),
        ),
    )
    return [None] * len(views)


class AccessLogWriter:
    """Group commit for access-log rows; :meth:`record` returns once its row is committed."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = _MAX_BATCH) -> None:
        # A failed batch wrote nothing (one statement), so its rows can be retried one by one.
        self._batcher: Batcher[View, None] = Batcher(
            functools.partial(_write, pool), max_batch=max_batch, retry_singly=True
        )

    async def record(self, view: View) -> None:
        await self._batcher.submit(view)


def writer_for(pool: asyncpg.Pool) -> AccessLogWriter:
    """The process's writer for ``pool`` (one per pool, so one per process in production)."""
    return for_owner(pool, "access-log", lambda: AccessLogWriter(pool))
