"""SQL for the inbox and the preferences. Every query is scoped to one account."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from notifications.schemas import ActionView, NotificationView, RefView
from notifications.templates import CATEGORIES, Language, render

__all__ = [
    "account_language",
    "catch_up",
    "delete",
    "get_one",
    "mark_all_read",
    "mark_read",
    "page",
    "preferences",
    "set_preferences",
    "unread_count",
    "view_of",
]

_COLUMNS = "id, kind, category, params, ref_type, ref_id, created_at, read_at"


def view_of(row: asyncpg.Record | dict[str, Any], language: Language) -> NotificationView:
    text = render(row["kind"], row["params"], language)
    return NotificationView(
        id=row["id"],
        kind=row["kind"],
        category=row["category"],
        title=text.title,
        body=text.body,
        action=ActionView(code=text.action, label=text.action_label or "") if text.action else None,
        ref=RefView(type=row["ref_type"], id=row["ref_id"]) if row["ref_type"] else None,
        created_at=row["created_at"],
        read=row["read_at"] is not None,
    )


async def account_language(conn: asyncpg.Pool | asyncpg.Connection, account_id: uuid.UUID) -> Language:
    language = await conn.fetchval("SELECT language FROM accounts WHERE id = $1", account_id)
    return "en" if language == "en" else "vi"


async def page(
    db: asyncpg.Pool, account_id: uuid.UUID, *, before: int | None, limit: int, unread_only: bool
) -> list[asyncpg.Record]:
    """Newest first; ``before`` is the id of the last entry of the previous page."""
    return list(
        await db.fetch(
            f"""SELECT {_COLUMNS} FROM notifications
                WHERE account_id = $1 AND ($2::bigint IS NULL OR id < $2)
                  AND (NOT $3 OR read_at IS NULL)
                ORDER BY id DESC LIMIT $4""",
            account_id,
            before,
            unread_only,
            limit,
        )
    )


async def catch_up(db: asyncpg.Pool, account_id: uuid.UUID, after: int, limit: int) -> list[asyncpg.Record]:
    """Entries newer than ``after``, oldest first: what a reconnecting client missed."""
    return list(
        await db.fetch(
            f"""SELECT {_COLUMNS} FROM notifications WHERE account_id = $1 AND id > $2
                ORDER BY id LIMIT $3""",
            account_id,
            after,
            limit,
        )
    )


async def latest_id(db: asyncpg.Pool, account_id: uuid.UUID) -> int:
    value = await db.fetchval("SELECT coalesce(max(id), 0) FROM notifications WHERE account_id = $1", account_id)
    return int(value)


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
    """Mark read everything up to ``up_to`` (what the client has seen), or everything."""
    result = await db.execute(
        """UPDATE notifications SET read_at = now()
           WHERE account_id = $1 AND read_at IS NULL AND ($2::bigint IS NULL OR id <= $2)""",
        account_id,
        up_to,
    )
    return int(result.rsplit(" ", 1)[-1])


async def delete(db: asyncpg.Pool, account_id: uuid.UUID, notification_id: int) -> bool:
    result: str = await db.execute(
        "DELETE FROM notifications WHERE account_id = $1 AND id = $2", account_id, notification_id
    )
    return result != "DELETE 0"


async def preferences(conn: asyncpg.Pool | asyncpg.Connection, account_id: uuid.UUID) -> dict[str, tuple[bool, bool]]:
    """(push, sms) per category: the account's choices over the defaults; mandatory forced on."""
    rows = await conn.fetch(
        "SELECT category, push, sms FROM notification_preferences WHERE account_id = $1", account_id
    )
    chosen = {r["category"]: (r["push"], r["sms"]) for r in rows}
    out: dict[str, tuple[bool, bool]] = {}
    for code, cat in CATEGORIES.items():
        if cat.mandatory:
            out[code] = (cat.push, cat.sms)
        else:
            out[code] = chosen.get(code, (cat.push, cat.sms))
    return out


async def set_preferences(
    conn: asyncpg.Connection, account_id: uuid.UUID, choices: dict[str, tuple[bool, bool]], language: str | None
) -> None:
    if language is not None:
        await conn.execute("UPDATE accounts SET language = $2, updated_at = now() WHERE id = $1", account_id, language)
    if choices:
        await conn.execute(
            """INSERT INTO notification_preferences (account_id, category, push, sms)
               SELECT $1, c, p, s FROM unnest($2::text[], $3::bool[], $4::bool[]) AS t(c, p, s)
               ON CONFLICT (account_id, category)
               DO UPDATE SET push = EXCLUDED.push, sms = EXCLUDED.sms, updated_at = now()""",
            account_id,
            list(choices),
            [v[0] for v in choices.values()],
            [v[1] for v in choices.values()],
        )
