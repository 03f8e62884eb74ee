"""The asyncpg pool: one per process, JSON codecs installed on every connection."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

__all__ = ["Connection", "Pool", "create_pool", "transaction"]

Pool = asyncpg.Pool
Connection = asyncpg.Connection


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=_dumps, decoder=json.loads, schema="pg_catalog")


class _PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection released without asyncpg's reset statement.

    asyncpg's default release runs ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` — one extra round trip for every query made through the pool, which halved
    the rate of our one-statement routes. Our code never leaves session state behind on a
    pooled connection: settings are ``set_config(..., true)`` (transaction-local), advisory
    locks are ``pg_advisory_xact_lock`` or released explicitly, and LISTEN runs on dedicated
    connections. asyncpg still rolls back any open transaction on release.

    One exception: when asyncpg refuses an argument it cannot encode (an integer beyond
    64 bits, say) it has already sent the statement's Parse, but never the Sync that ends
    it, so the server sits mid-statement holding the statement's table locks — on a
    pooled connection, until that connection's next query, which may be never (TRUNCATE
    and migrations then waited forever). After such a refusal the release sends a query.
    """

    _unsynced = False

    async def _do_execute(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super()._do_execute(*args, **kwargs)
        except (asyncpg.DataError, asyncpg.InterfaceError):  # the server's own data errors too: harmless
            self._unsynced = True
            raise

    def get_reset_query(self) -> str:
        if self._unsynced:
            self._unsynced = False
            return "SELECT 1"
        return ""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        connection_class=_PooledConnection,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        # Every session runs in UTC so that timestamps never depend on the server's zone.
        server_settings={"timezone": "UTC", "application_name": "citizen-wallet"},
        command_timeout=60,
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """Acquire a connection and run the block in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn
