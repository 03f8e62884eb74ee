"""Real PostgreSQL and Redis for a test session."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from wallet_api import migrate
from wallet_api.embedded import EmbeddedPostgres, EmbeddedRedis

__all__ = ["ServerSet", "start_test_servers"]

REPO = Path(__file__).resolve().parents[2]


@dataclass
class ServerSet:
    database_url: str
    redis_url: str
    admin_url: str
    redis: EmbeddedRedis | None


def _with_database(url: str, name: str) -> str:
    base, sep, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}{sep}{query}"


async def _create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await migrate.apply(conn)
        # The table behind the test-only probe routes (tests/support/probes.py).
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
    name = f"wallet_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_create_database(admin_url, name))
    url = _with_database(admin_url, name)
    try:
        asyncio.run(_migrate(url))
        yield ServerSet(database_url=url, redis_url=redis_url, admin_url=admin_url, redis=rd)
    finally:
        asyncio.run(_drop_database(admin_url, name))
        if rd is not None:
            rd.stop()
        if pg is not None:
            pg.stop()
