"""The inbox cursor (``seq``) follows commit order per account, even when two transactions
add entries for the same account at once: against real PostgreSQL, two transactions that
would commit in the reverse order of their inserts."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx

from notifications import store
from notifications.events import Notice
from notifications.store import insert_notices
from tests.notifications.conftest import create_account


def _notice(account: uuid.UUID, key: str) -> Notice:
    return Notice(account, "account.level_raised", "account", {"level": 2}, None, None, key)


async def _waiting_on_a_lock(db: asyncpg.Pool, pid: int) -> bool:
    for _ in range(200):
        state = await db.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid)
        if state == "Lock":
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_second_transaction_for_the_same_account_cannot_commit_first(
    client: httpx.AsyncClient, db: asyncpg.Pool, citizen_headers: Any
) -> None:
    account = await create_account(db)
    headers = await citizen_headers(account)
    first = await db.acquire()
    second_pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def second_transaction() -> asyncpg.Record:
        async with db.acquire() as conn, conn.transaction():
            second_pid.set_result(conn.get_server_pid())
            (row,) = await insert_notices(conn, [_notice(account, "second")])
            return row  # commits on leaving the block

    try:
        tx = first.transaction()
        await tx.start()
        (one,) = await insert_notices(first, [_notice(account, "first")])
        # The second transaction starts after the first inserted and tries to commit first.
        task = asyncio.create_task(second_transaction())
        # It cannot: it waits on the account's counter row until the first one ends.
        assert await _waiting_on_a_lock(db, await second_pid)
        assert not task.done()
        page = (await client.get("/v1/notifications", headers=headers)).json()
        assert page["items"] == []
        await tx.commit()
        two = await asyncio.wait_for(task, 30)
    finally:
        await db.release(first)

    # Commit order is seq order, so a reader resuming after what it saw misses nothing.
    assert (one["seq"], two["seq"]) == (1, 2)
    assert [r["id"] for r in await store.catch_up(db, account, 0, 10)] == [one["id"], two["id"]]
    assert [r["id"] for r in await store.catch_up(db, account, one["seq"], 10)] == [two["id"]]
    page = (await client.get("/v1/notifications", headers=headers)).json()
    assert [item["seq"] for item in page["items"]] == [2, 1]
    assert await store.latest_seq(db, account) == 2
