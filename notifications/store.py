"""SQL for the inbox (and the account's language). Every query is scoped to one account.

Entries are ordered by ``seq``, a per-account number taken from ``notification_counters``
in the transaction that adds the entries (:func:`insert_notices`). The counter row stays
locked until that transaction commits, so a second transaction adding entries for the same
account waits for the first: per account, ``seq`` order is commit order, and a reader who
has seen ``seq = n`` will find every later entry at ``seq > n``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from notifications.events import Notice
from notifications.schemas import AboutView, ActionView, NotificationView, RefView
from notifications.templates import Language, render

__all__ = [
    "account_language",
    "catch_up",
    "delete",
    "get_one",
    "insert_notices",
    "latest_seq",
    "mark_all_read",
    "mark_read",
    "page",
    "set_language",
    "unread_count",
    "view_of",
]

#: The child's registered name on a guardian's copy of a notice about the child's account.
_ABOUT_NAME = """(SELECT c.full_name FROM account_contacts c
                 WHERE c.account_id = notifications.about_account_id) AS about_name"""
_RETURNED = "id, account_id, seq, kind, category, params, ref_type, ref_id, created_at, read_at, about_account_id"
_COLUMNS = f"{_RETURNED}, {_ABOUT_NAME}"


# Locks the counters in account order (two batches never wait for each other in a cycle).
_BUMP_COUNTERS = """
INSERT INTO notification_counters AS c (account_id, last_seq)
SELECT a, n FROM unnest($1::uuid[], $2::bigint[]) AS t(a, n) ORDER BY a
ON CONFLICT (account_id) DO UPDATE SET last_seq = c.last_seq + EXCLUDED.last_seq
RETURNING account_id, last_seq
"""
_INSERT = f"""
INSERT INTO notifications (account_id, seq, kind, category, params, ref_type, ref_id, dedupe_key, about_account_id)
SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::text[],
                     $8::text[], $9::uuid[])
ON CONFLICT (account_id, dedupe_key) DO NOTHING
RETURNING {_RETURNED}, dedupe_key
"""


async def insert_notices(conn: asyncpg.Connection, notices: Sequence[Notice]) -> list[asyncpg.Record]:
    """Add inbox entries (in ``conn``'s transaction); returns the rows added, without those
    already there (same account and dedupe key). Must run inside a transaction: the counter
    rows locked here are what orders the entries by commit."""
    if not notices:
        return []
    wanted: dict[uuid.UUID, int] = {}
    for n in notices:
        wanted[n.account_id] = wanted.get(n.account_id, 0) + 1
    last = {
        r["account_id"]: r["last_seq"] for r in await conn.fetch(_BUMP_COUNTERS, list(wanted), list(wanted.values()))
    }
    # Each account's new entries take the numbers just reserved, in the order given. An
    # entry already present (a redelivered event) leaves its number unused: gaps are fine.
    next_seq = {a: last[a] - k + 1 for a, k in wanted.items()}
    seqs = []
    for n in notices:
        seqs.append(next_seq[n.account_id])
        next_seq[n.account_id] += 1
    return list(
        await conn.fetch(
            _INSERT,
            [n.account_id for n in notices],
            seqs,
            [n.kind for n in notices],
            [n.category for n in notices],
            [n.params for n in notices],
            [n.ref_type for n in notices],
            [n.ref_id for n in notices],
            [n.dedupe_key for n in notices],
            [n.about_account_id for n in notices],
        )
    )


def view_of(
    row: asyncpg.Record | dict[str, Any], language: Language, *, about_name: str | None = None
) -> NotificationView:
    """The entry as the app shows it. ``about_name``: the child's name when ``row`` has none."""
    about_id = row["about_account_id"]
    name = (row.get("about_name") or about_name) if about_id is not None else None
    text = render(row["kind"], row["params"], language, about_child=about_id is not None, child_name=name)
    return NotificationView(
        id=row["id"],
        seq=row["seq"],
        kind=row["kind"],
        category=row["category"],
        title=text.title,
        body=text.body,
        action=ActionView(code=text.action, label=text.action_label or "") if text.action else None,
        ref=RefView(type=row["ref_type"], id=row["ref_id"]) if row["ref_type"] else None,
        created_at=row["created_at"],
        read=row["read_at"] is not None,
        about=AboutView(account_id=str(about_id), name=name) if about_id is not None else None,
    )


async def account_language(conn: asyncpg.Pool | asyncpg.Connection, account_id: uuid.UUID) -> Language:
    language = await conn.fetchval("SELECT language FROM account_contacts WHERE account_id = $1", account_id)
    return "en" if language == "en" else "vi"


async def page(
    db: asyncpg.Pool, account_id: uuid.UUID, *, before: int | None, limit: int, unread_only: bool
) -> list[asyncpg.Record]:
    """Newest first; ``before`` is the ``seq`` of the last entry of the previous page."""
    return list(
        await db.fetch(
            f"""SELECT {_COLUMNS} FROM notifications
                WHERE account_id = $1 AND ($2::bigint IS NULL OR seq < $2)
                  AND (NOT $3 OR read_at IS NULL)
                ORDER BY seq DESC LIMIT $4""",
            account_id,
            before,
            unread_only,
            limit,
        )
    )


async def catch_up(db: asyncpg.Pool, account_id: uuid.UUID, after: int, limit: int) -> list[asyncpg.Record]:
    """Entries after ``seq = after``, oldest first: what a reconnecting client missed."""
    return list(
        await db.fetch(
            f"""SELECT {_COLUMNS} FROM notifications WHERE account_id = $1 AND seq > $2
                ORDER BY seq LIMIT $3""",
            account_id,
            after,
            limit,
        )
    )


async def latest_seq(db: asyncpg.Pool, account_id: uuid.UUID) -> int:
    """The newest committed ``seq`` of the account (0 before its first entry)."""
    value = await db.fetchval("SELECT last_seq FROM notification_counters WHERE account_id = $1", account_id)
    return int(value or 0)


async def get_one(db: asyncpg.Pool, account_id: uuid.UUID, notification_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM notifications WHERE account_id = $1 AND id = $2", account_id, notification_id
    )
    return row


async def unread_count(db: asyncpg.Pool, account_id: uuid.UUID) -> int:
    value = await db.fetchval(
        "SELECT count(*) FROM notifications WHERE account_id = $1 AND read_at IS NULL", account_id
    )
    return int(value)


async def mark_read(db: asyncpg.Pool, account_id: uuid.UUID, notification_id: int) -> bool:
    """True if the entry exists (already read counts: marking read is idempotent)."""
    value = await db.fetchval(
        """UPDATE notifications SET read_at = coalesce(read_at, now())
           WHERE account_id = $1 AND id = $2 RETURNING id""",
        account_id,
        notification_id,
    )
    return value is not None


async def mark_all_read(db: asyncpg.Pool, account_id: uuid.UUID, up_to: int | None) -> int:
    """Mark read everything up to ``seq = up_to`` (what the client has seen), or everything."""
    result = await db.execute(
        """UPDATE notifications SET read_at = now()
           WHERE account_id = $1 AND read_at IS NULL AND ($2::bigint IS NULL OR seq <= $2)""",
        account_id,
        up_to,
    )
    return int(result.rsplit(" ", 1)[-1])


async def delete(db: asyncpg.Pool, account_id: uuid.UUID, notification_id: int) -> bool:
    result: str = await db.execute(
        "DELETE FROM notifications WHERE account_id = $1 AND id = $2", account_id, notification_id
    )
    return result != "DELETE 0"


async def set_language(conn: asyncpg.Pool | asyncpg.Connection, account_id: uuid.UUID, language: str) -> None:
    await conn.execute("UPDATE accounts SET language = $2, updated_at = now() WHERE id = $1", account_id, language)
