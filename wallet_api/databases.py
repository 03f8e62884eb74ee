"""Whole databases made and dropped: scratch databases for the schema snapshot, tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg

from wallet_api import migrate

__all__ = ["create_database", "drop_database", "migrate_database", "migrated_database", "scratch_name", "with_database"]


def with_database(url: str, name: str) -> str:
    """``url`` (a server and its options) naming database ``name`` instead."""
    base, sep, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}{sep}{query}"


def scratch_name(prefix: str) -> str:
    """A database name no other process picks: ``{prefix}_{pid}_{random}``."""
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


async def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on ``admin_url``'s server; its URL."""
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrate_database(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await migrate.apply(conn)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def migrated_database(admin_url: str, prefix: str) -> AsyncIterator[str]:
    """The URL of a new database ``{prefix}_*`` with every migration applied, dropped afterwards."""
    name = scratch_name(prefix)
    url = await create_database(admin_url, name)
    try:
        await migrate_database(url)
        yield url
    finally:
        await drop_database(admin_url, name)
