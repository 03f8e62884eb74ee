"""Migrations: ordered, once each under concurrency, and refusing edited history."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.support.servers import ServerSet
from wallet_api import migrate
from wallet_api.databases import create_database, drop_database, scratch_name


@pytest.fixture
async def scratch_db(servers: ServerSet) -> AsyncIterator[str]:
    name = scratch_name("wallet_mig")
    url = await create_database(servers.admin_url, name)
    try:
        yield url
    finally:
        await drop_database(servers.admin_url, name)


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    target.mkdir()
    (target / "0001_first.sql").write_text("CREATE TABLE t1 (id int);")
    (target / "0002_second.sql").write_text("CREATE TABLE t2 (id int); INSERT INTO t1 VALUES (1);")
    return target


async def test_applies_in_order_and_records_each(scratch_db: str, migrations_dir: Path) -> None:
    conn = await asyncpg.connect(scratch_db)
    try:
        applied = await migrate.apply(conn, migrations_dir)
        assert [a.version for a in applied] == [1, 2]
        assert await conn.fetchval("SELECT count(*) FROM t1") == 1
        assert await migrate.apply(conn, migrations_dir) == []
        assert [s.state for s in await migrate.status(conn, migrations_dir)] == ["applied", "applied"]
    finally:
        await conn.close()


async def test_two_processes_starting_at_once_apply_each_file_once(scratch_db: str, migrations_dir: Path) -> None:
    (migrations_dir / "0003_slow.sql").write_text("SELECT pg_sleep(0.3); INSERT INTO t1 VALUES (3);")
    conns = [await asyncpg.connect(scratch_db) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate.apply(c, migrations_dir) for c in conns))
        assert sorted(len(r) for r in results) == [0, 0, 0, 3]
        assert await conns[0].fetchval("SELECT count(*) FROM t1") == 2
    finally:
        for c in conns:
            await c.close()


async def test_a_failing_migration_rolls_back_and_stops(scratch_db: str, migrations_dir: Path) -> None:
    (migrations_dir / "0003_broken.sql").write_text("INSERT INTO t1 VALUES (9); SELECT * FROM no_such_table;")
    conn = await asyncpg.connect(scratch_db)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate.apply(conn, migrations_dir)
        assert await conn.fetchval("SELECT count(*) FROM t1 WHERE id = 9") == 0
        states = {s.version: s.state for s in await migrate.status(conn, migrations_dir)}
        assert states == {1: "applied", 2: "applied", 3: "pending"}
    finally:
        await conn.close()


async def test_an_edited_applied_migration_is_refused(scratch_db: str, migrations_dir: Path) -> None:
    conn = await asyncpg.connect(scratch_db)
    try:
        await migrate.apply(conn, migrations_dir)
        (migrations_dir / "0001_first.sql").write_text("CREATE TABLE t1 (id bigint);")
        assert {s.version: s.state for s in await migrate.status(conn, migrations_dir)}[1] == "modified"
        with pytest.raises(migrate.MigrationError, match="0001_first"):
            await migrate.apply(conn, migrations_dir)
        with pytest.raises(migrate.MigrationError, match="modified"):
            await migrate.verify(conn, migrations_dir)
    finally:
        await conn.close()


async def test_pending_migrations_stop_the_app_from_starting(scratch_db: str, migrations_dir: Path) -> None:
    conn = await asyncpg.connect(scratch_db)
    try:
        with pytest.raises(migrate.MigrationError, match="not applied"):
            await migrate.verify(conn, migrations_dir)
    finally:
        await conn.close()


def test_file_names_must_be_numbered(tmp_path: Path) -> None:
    (tmp_path / "create_things.sql").write_text("SELECT 1")
    with pytest.raises(migrate.MigrationError, match="NNNN_name"):
        migrate.discover(tmp_path)


def test_duplicate_numbers_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1")
    (tmp_path / "0001_b.sql").write_text("SELECT 1")
    with pytest.raises(migrate.MigrationError, match="share number"):
        migrate.discover(tmp_path)


def test_repository_migrations_are_well_formed() -> None:
    files = migrate.discover()
    assert files[0].version == 1
    assert shutil.which("true")  # the runner itself needs nothing else
