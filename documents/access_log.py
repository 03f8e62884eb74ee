"""The holder's access log, written in the very statement that reads the verified documents.

Every verification that finds its document writes a row to ``document_views`` and a
``document.viewed`` event, and the verifier gets its answer only after both are committed.
Written one per request, each verification paid for its own commit (a WAL flush, and
PostgreSQL serialises the commits of transactions that NOTIFY, which the outbox trigger
does), and that capped verifications far below what the rest of the path could do. Written
in groups after a separate read, each group still cost two round trips.

So the read and the write are one statement (a data-modifying ``WITH``), batched: each API
process keeps one :class:`wallet_api.batching.Batcher` per kind of verification. A request
hands over what it verifies and waits; while a statement is in flight, the requests that
arrive meanwhile queue up and go together in the next one, which reads their documents
(fresh, at that moment), decides each outcome, inserts the rows and appends the events.
The statement runs alone in its implicit transaction, so when its rows come back they are
committed. At low load a statement carries one verification and adds no delay; under load
the batches grow by themselves. If a batch fails it wrote nothing, and its verifications
are retried one by one, so that one bad item fails only its own request.

The outcome is decided in this statement, once for the log, the event and the answer:
``document-revoked``, ``document-suspended``, ``document-expired`` or ``valid``, by the
rules of documents/verdict.py rendered as SQL.
"""

from __future__ import annotations

import functools
from typing import Any

import asyncpg

from documents.service import today_ict
from documents.verdict import document_verdict_sql
from wallet_api.kernel import Batcher, Batchers, consumers_for, fetch_per_item, insert_events

__all__ = ["TOPIC", "recorder_for"]

TOPIC = "document.viewed"

_MAX_BATCH = 500

# ``{read}`` selects one row per verification whose document was found, with the columns
# named below; the statement's parameters $1 (today in Vietnam) and $2 (the topic's
# consumers) are this template's, ``{read}`` numbers its own from $3. ``shown``: the fields
# the verifier sees if the document is valid (nothing is logged as shown otherwise).
# The events of the logged verifications (key: the document), for ``insert_events``.
_EVENTS = """(SELECT f.id::text, jsonb_build_object(
               'account_id', f.holder_account_id, 'document_id', f.id, 'doc_type', f.doc_type,
               'verifier_org_id', f.verifier_org_id, 'verifier_name', f.verifier_name,
               'fields', to_jsonb(CASE WHEN f.outcome = 'valid' THEN f.shown ELSE '{{}}' END),
               'channel', '{channel}', 'outcome', f.outcome)
    FROM found f)"""

_TEMPLATE = (
    """
WITH hit AS ({read}),
found AS (
    SELECT hit.*, """
    + document_verdict_sql(state="state", status="credential_status", valid_until="valid_until", today="$1::date")
    + """ AS outcome
    FROM hit
),
logged AS (
    INSERT INTO document_views (document_id, account_id, verifier_org_id, verifier, channel, fields, outcome)
    SELECT id, holder_account_id, verifier_org_id, verifier, '{channel}',
           CASE WHEN outcome = 'valid' THEN shown ELSE '{{}}' END, outcome
    FROM found
),
events AS ("""
    + insert_events(_EVENTS, topic=f"'{TOPIC}'", consumers="$2")
    + """)
SELECT * FROM found
"""
)


async def _read_and_record(
    pool: asyncpg.Pool, sql: str, constants: tuple[Any, ...], items: list[tuple[Any, ...]]
) -> list[asyncpg.Record | None]:
    # The consumers are looked up at each call, as publish_many does (those the domains declare).
    return await fetch_per_item(pool, sql, items, (today_ict(), consumers_for(TOPIC), *constants))


def recorder_for(
    batchers: Batchers, pool: asyncpg.Pool, channel: str, read: str, constants: tuple[Any, ...] = ()
) -> Batcher[tuple[Any, ...], asyncpg.Record | None]:
    """The process's batcher that reads documents with ``read`` and logs each verification.

    ``read``'s parameters from $3 are ``constants`` (the same for every batch), then one
    array per element of the items. Each item is one verification; its result is the row of
    ``read`` plus ``outcome`` (logged and committed), or None when ``read`` found no
    document (nothing logged).
    """
    # The statement is built once, with the batcher, not at each verification.
    return batchers.get(
        f"access-log:{channel}",
        # A failed statement wrote nothing, so its items can be retried one by one.
        lambda: Batcher(
            functools.partial(_read_and_record, pool, _TEMPLATE.format(read=read, channel=channel), constants),
            max_batch=_MAX_BATCH,
            retry_singly=True,
        ),
    )
