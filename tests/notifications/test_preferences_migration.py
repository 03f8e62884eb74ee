"""Migration 0800 moves every existing preference (a push and an sms column per category)
to one row per channel preference, without losing or changing a choice."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from tests.support.servers import ServerSet
from wallet_api import migrate
from wallet_api.databases import create_database, drop_database, scratch_name

_FIRST_NEW = 800


@pytest.fixture
async def scratch(servers: ServerSet) -> AsyncIterator[asyncpg.Connection]:
    name = scratch_name("wallet_prefs")
    conn = await asyncpg.connect(await create_database(servers.admin_url, name))
    try:
        yield conn
    finally:
        await conn.close()
        await drop_database(servers.admin_url, name)


def _migrations(target: Path, *, before: int | None) -> Path:
    target.mkdir(exist_ok=True)
    for f in migrate.discover():
        if before is None or f.version < before:
            shutil.copy(f.path, target / f.path.name)
    return target


async def test_old_choices_become_rows_unchanged(scratch: asyncpg.Connection, tmp_path: Path) -> None:
    await migrate.apply(scratch, _migrations(tmp_path / "m", before=_FIRST_NEW))
    accounts = [
        await scratch.fetchval(
            "INSERT INTO accounts (person_id, phone, level) VALUES ($1, $2, 2) RETURNING id",
            f"00120000000{i}",
            f"090000000{i}",
        )
        for i in range(2)
    ]
    chosen_at = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    old = [
        (accounts[0], "payments", True, True),
        (accounts[0], "document_checks", False, False),
        (accounts[1], "wallets", False, True),
    ]
    await scratch.executemany(
        """INSERT INTO notification_preferences (account_id, category, push, sms, updated_at)
           VALUES ($1, $2, $3, $4, $5)""",
        [(*row, chosen_at) for row in old],
    )

    await migrate.apply(scratch, _migrations(tmp_path / "m", before=None))

    rows = await scratch.fetch(
        "SELECT account_id, category, channel, enabled, updated_at FROM notification_preferences"
    )
    assert {(r["account_id"], r["category"], r["channel"], r["enabled"]) for r in rows} == {
        (account, category, channel, on)
        for account, category, push, sms in old
        for channel, on in (("push", push), ("sms", sms))
    }
    assert {r["updated_at"] for r in rows} == {chosen_at}
    # No channel list constrains deliveries any more: a new channel's rows are accepted.
    assert not await scratch.fetchval(
        """SELECT count(*) FROM pg_constraint WHERE conrelid = 'notification_deliveries'::regclass
           AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%channel%'"""
    )
