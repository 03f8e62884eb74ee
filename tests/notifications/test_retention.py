"""Inbox retention: read entries go after the read retention, any entry after the maximum
age, in bounded batches, with their deliveries; what is left and the cursor are intact."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from notifications.events import Notice
from notifications.retention import LOOP, remove_expired_once
from notifications.store import insert_notices
from tests.notifications.conftest import create_account, create_device
from tests.support.settings import replaced
from wallet_api.settings import Settings, SettingsError
from wallet_api.worker_context import WorkerContext


async def _entry(db: asyncpg.Pool, account: uuid.UUID, key: str, *, age_days: int, read_days_ago: int | None) -> int:
    async with db.acquire() as conn, conn.transaction():
        (row,) = await insert_notices(
            conn, [Notice(account, "account.level_raised", "account", {"level": 2}, None, None, key)]
        )
        await conn.execute(
            """UPDATE notifications SET created_at = now() - make_interval(days => $2),
                      read_at = CASE WHEN $3::int IS NULL THEN NULL ELSE now() - make_interval(days => $3) END
               WHERE id = $1""",
            row["id"],
            age_days,
            read_days_ago,
        )
    return int(row["id"])


async def test_old_read_entries_and_entries_past_the_maximum_age_are_removed_in_batches(
    client: httpx.AsyncClient, db: asyncpg.Pool, worker: WorkerContext, citizen_headers: Any
) -> None:
    ctx = worker.replaced(
        settings=replaced(
            worker.settings, notify_retention_read_days=30, notify_retention_max_days=365, notify_retention_batch=2
        ),
    )
    account = await create_account(db)
    device, _ = await create_device(db, account)
    keep = {
        "new unread": await _entry(db, account, "a", age_days=1, read_days_ago=None),
        "read recently": await _entry(db, account, "b", age_days=100, read_days_ago=29),
        "old but unread": await _entry(db, account, "c", age_days=300, read_days_ago=None),
    }
    gone = [
        *[await _entry(db, account, f"read{i}", age_days=60, read_days_ago=31) for i in range(3)],
        *[await _entry(db, account, f"old{i}", age_days=366, read_days_ago=None) for i in range(2)],
    ]
    await db.execute(
        """INSERT INTO notification_deliveries (notification_id, account_id, channel, device_id, state)
           SELECT id, $2, 'fcm', $3, 'sent' FROM unnest($1::bigint[]) AS t(id)""",
        [*keep.values(), *gone],
        account,
        device,
    )

    passes = []
    while n := await remove_expired_once(ctx):
        passes.append(n)
    # Never more than one batch per rule per pass: short statements, short locks.
    assert passes and all(n <= 2 * 2 for n in passes)
    assert sum(passes) == len(gone)

    left = await db.fetch("SELECT id FROM notifications WHERE account_id = $1 ORDER BY id", account)
    assert [r["id"] for r in left] == sorted(keep.values())
    deliveries = await db.fetch("SELECT notification_id FROM notification_deliveries ORDER BY notification_id")
    assert [r["notification_id"] for r in deliveries] == sorted(keep.values())

    # The citizen's inbox shows what is left, and new entries continue the same cursor.
    page = (await client.get("/v1/notifications", headers=await citizen_headers(account))).json()
    assert sorted(item["id"] for item in page["items"]) == sorted(keep.values())
    assert page["unread"] == 2
    async with db.acquire() as conn, conn.transaction():
        (row,) = await insert_notices(
            conn, [Notice(account, "account.level_raised", "account", {"level": 2}, None, None, "next")]
        )
    assert row["seq"] == 9


async def test_the_loop_is_part_of_the_notifications_domain() -> None:
    from notifications.domain import DOMAIN

    assert LOOP in DOMAIN.loops and LOOP.name == "notifications.retention"


@pytest.mark.parametrize(
    ("read_days", "max_days", "batch"),
    [(0, 730, 1000), (800, 730, 1000), (90, 730, 0)],
)
def test_retention_settings_are_checked(read_days: int, max_days: int, batch: int) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(
            {
                "WALLET_NOTIFY_RETENTION_READ_DAYS": str(read_days),
                "WALLET_NOTIFY_RETENTION_MAX_DAYS": str(max_days),
                "WALLET_NOTIFY_RETENTION_BATCH": str(batch),
            }
        )
