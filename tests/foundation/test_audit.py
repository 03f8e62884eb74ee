"""The hash-chained audit log detects edited, deleted and inserted rows."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg
import pytest

from wallet_api.audit import AuditBreak, record, verify_chain
from wallet_api.settings import Settings


async def write_events(db: asyncpg.Pool, n: int) -> None:
    for i in range(n):
        async with db.acquire() as conn, conn.transaction():
            await record(
                conn, actor=f"officer:{i}", action="account.level_raised", subject=f"account:{i}", details={"n": i}
            )


async def verify(db: asyncpg.Pool) -> tuple[int, AuditBreak | None]:
    async with db.acquire() as conn:
        return await verify_chain(conn)


async def tamper(db: asyncpg.Pool, sql: str) -> None:
    """An insider with database superuser rights goes around the append-only triggers."""
    async with db.acquire() as conn:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(sql)
        await conn.execute("SET session_replication_role = origin")


async def test_intact_chain_verifies(db: asyncpg.Pool) -> None:
    await write_events(db, 5)
    checked, broken = await verify(db)
    assert (checked, broken) == (5, None)


async def test_rows_cannot_be_updated_or_deleted_normally(db: asyncpg.Pool) -> None:
    await write_events(db, 1)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("UPDATE audit_log SET actor = 'x'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("DELETE FROM audit_log")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("TRUNCATE audit_log")


async def test_edited_row_is_detected(db: asyncpg.Pool) -> None:
    await write_events(db, 5)
    await tamper(db, "UPDATE audit_log SET actor = 'officer:someone-else' WHERE seq = 3")
    _, broken = await verify(db)
    assert broken is not None and broken.seq == 3 and "edited" in broken.reason


async def test_edited_details_are_detected(db: asyncpg.Pool) -> None:
    await write_events(db, 3)
    await tamper(db, """UPDATE audit_log SET details = '{"n": 99}' WHERE seq = 2""")
    _, broken = await verify(db)
    assert broken is not None and broken.seq == 2


async def test_deleted_middle_row_is_detected(db: asyncpg.Pool) -> None:
    await write_events(db, 5)
    await tamper(db, "DELETE FROM audit_log WHERE seq = 2")
    _, broken = await verify(db)
    assert broken is not None and broken.seq == 2 and "missing" in broken.reason


async def test_deleted_tail_is_detected(db: asyncpg.Pool) -> None:
    await write_events(db, 5)
    await tamper(db, "DELETE FROM audit_log WHERE seq = 5")
    _, broken = await verify(db)
    assert broken is not None and "deleted" in broken.reason


async def test_concurrent_appends_keep_one_chain(db: asyncpg.Pool) -> None:
    import asyncio

    await asyncio.gather(*(write_events(db, 5) for _ in range(4)))
    assert await verify(db) == (20, None)


def test_cli_verify_exits_nonzero_on_tampering(settings: Settings, db: asyncpg.Pool) -> None:
    import asyncio

    env = {**os.environ, "WALLET_DATABASE_URL": settings.database_url, "WALLET_REDIS_URL": settings.redis_url}
    cmd = [sys.executable, "-m", "wallet_api.cli", "audit", "verify"]
    loop = asyncio.new_event_loop()
    try:
        pool = loop.run_until_complete(_pool(settings))
        loop.run_until_complete(write_events(pool, 3))
        ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0, ok.stderr
        assert "intact: 3 rows" in ok.stdout
        loop.run_until_complete(tamper(pool, "UPDATE audit_log SET action = 'nothing' WHERE seq = 1"))
        bad = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert bad.returncode == 1
        assert "BROKEN at row 1" in bad.stdout
        loop.run_until_complete(pool.close())
    finally:
        loop.close()


async def _pool(settings: Settings) -> asyncpg.Pool:
    from wallet_api.db import create_pool

    return await create_pool(settings.database_url, min_size=1, max_size=2)
