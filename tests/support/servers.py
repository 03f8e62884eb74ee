"""Real PostgreSQL and Redis for a test session."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from wallet_api.databases import create_database, drop_database, migrate_database, scratch_name
from wallet_api.embedded import EmbeddedPostgres, EmbeddedRedis

__all__ = ["ServerSet", "fresh_database", "start_test_servers"]

REPO = Path(__file__).resolve().parents[2]


@dataclass
class ServerSet:
    database_url: str
    redis_url: str
    admin_url: str
    redis: EmbeddedRedis | None


@contextlib.contextmanager
def fresh_database(admin_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, migrated database ``{prefix}_*`` on ``admin_url``'s server, dropped after the block."""
    name = scratch_name(prefix)
    url = asyncio.run(create_database(admin_url, name))
    try:
        asyncio.run(migrate_database(url))
        yield url
    finally:
        asyncio.run(drop_database(admin_url, name))


async def _add_probe_table(url: str) -> None:
    # The table behind the test-only probe routes (tests/support/probes.py).
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE probe_things (id uuid PRIMARY KEY, name text NOT NULL, amount bigint NOT NULL)"
        )
    finally:
        await conn.close()


@contextlib.contextmanager
def start_test_servers(tmp: Path) -> Iterator[ServerSet]:
    pg: EmbeddedPostgres | None = None
    admin_url = os.environ.get("WALLET_TEST_DATABASE_URL", "")
    if not admin_url:
        pg = EmbeddedPostgres(REPO / ".wallet")
        admin_url = pg.start()
    rd: EmbeddedRedis | None = None
    redis_url = os.environ.get("WALLET_TEST_REDIS_URL", "")
    if not redis_url:
        rd = EmbeddedRedis(tmp)
        redis_url = rd.start()
    try:
        with fresh_database(admin_url, "wallet_test") as url:
            asyncio.run(_add_probe_table(url))
            yield ServerSet(database_url=url, redis_url=redis_url, admin_url=admin_url, redis=rd)
    finally:
        if rd is not None:
            rd.stop()
        if pg is not None:
            pg.stop()
