"""Expiry reminders: a background loop that tells holders a document expires within 30 days.

Any number of workers may run it: a reminder is recorded per (document, expiry date) in
the same transaction as its ``document.expiring`` event, and rows are claimed with
``SKIP LOCKED``, so each reminder is sent once. A renewed document (a new expiry date)
gets its own reminder. The loop also keeps retired issuer keys published exactly as long
as their credentials need them.
"""

from __future__ import annotations

import datetime as dt

from documents.issuer_keys import settle_retired_keys
from documents.service import today_ict
from wallet_api.kernel import BackgroundLoop, WorkerContext, publish_many

__all__ = ["EXPIRY_LOOP", "send_expiry_reminders"]

REMIND_DAYS = 30
_BATCH = 500


async def send_expiry_reminders(ctx: WorkerContext) -> int:
    today = today_ict()
    async with ctx.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """SELECT d.id, d.doc_type, d.valid_until, a.id AS account_id
               FROM documents d LEFT JOIN accounts a ON a.person_id = d.holder_id
               WHERE d.state = 'active' AND d.valid_until >= $1 AND d.valid_until <= $2
                 AND NOT EXISTS (SELECT 1 FROM document_expiry_notices n
                                 WHERE n.document_id = d.id AND n.expires_on = d.valid_until)
               ORDER BY d.valid_until LIMIT $3
               FOR UPDATE OF d SKIP LOCKED""",
            today,
            today + dt.timedelta(days=REMIND_DAYS),
            _BATCH,
        )
        if not rows:
            await settle_retired_keys(conn)
            return 0
        await conn.execute(
            """INSERT INTO document_expiry_notices (document_id, expires_on)
               SELECT * FROM unnest($1::uuid[], $2::date[]) ON CONFLICT DO NOTHING""",
            [r["id"] for r in rows],
            [r["valid_until"] for r in rows],
        )
        await publish_many(
            conn,
            "document.expiring",
            (
                (
                    str(r["id"]),
                    {
                        "account_id": str(r["account_id"]) if r["account_id"] else None,
                        "document_id": str(r["id"]),
                        "doc_type": r["doc_type"],
                        "expires_on": r["valid_until"].isoformat(),
                    },
                )
                for r in rows
            ),
        )
    return len(rows)


EXPIRY_LOOP = BackgroundLoop(name="documents-expiring", run_once=send_expiry_reminders, idle_interval=3600.0)
