"""The connection pool releases connections without asyncpg's reset statement.

That is safe only because no code leaves session state on a pooled connection; these
tests pin the guarantees that remain: transaction-local settings end with their
transaction, an abandoned transaction is rolled back on release, and a statement asyncpg
abandoned half-sent (an argument it could not encode) is ended on release.
"""

from __future__ import annotations

import asyncpg
import pytest

from wallet_api.db import create_pool
from wallet_api.settings import Settings


@pytest.fixture
async def one_connection_pool(settings: Settings) -> asyncpg.Pool:
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    yield pool
    await pool.close()


async def test_release_sends_no_reset_statement(one_connection_pool: asyncpg.Pool) -> None:
    async with one_connection_pool.acquire() as conn:
        assert conn.get_reset_query() == ""


async def test_transaction_local_settings_do_not_outlive_the_transaction(one_connection_pool: asyncpg.Pool) -> None:
    async with one_connection_pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('wallet.actor', 'officer:1', true)")
    # The pool has one connection, so this is the same session.
    actor = await one_connection_pool.fetchval("SELECT current_setting('wallet.actor', true)")
    assert actor in (None, "")


async def test_an_open_transaction_is_rolled_back_on_release(one_connection_pool: asyncpg.Pool) -> None:
    async with one_connection_pool.acquire() as conn:
        await conn.execute("BEGIN")
        await conn.execute("CREATE TEMP TABLE leak (x int) ON COMMIT DROP")
    async with one_connection_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM pg_class WHERE relname = 'leak'") == 0


async def test_an_argument_asyncpg_cannot_encode_leaves_no_lock_behind(
    one_connection_pool: asyncpg.Pool, db: asyncpg.Pool
) -> None:
    """asyncpg refuses a too-large integer after sending Parse: the release must end that statement."""
    with pytest.raises(asyncpg.DataError):
        await one_connection_pool.fetch("SELECT * FROM probe_things WHERE amount = $1", 2**64)
    async with db.acquire() as other, other.transaction():
        await other.execute("SET LOCAL lock_timeout = '5s'")
        await other.execute("LOCK TABLE probe_things IN ACCESS EXCLUSIVE MODE")  # refused while a lock is held
