"""Numbered plain-SQL migrations, applied in order under an advisory lock.

Files are ``migrations/NNNN_name.sql``. Each runs in its own transaction; its SHA-256 is
recorded, and an applied file whose content changed afterwards stops every process from
starting (edit history with a new migration, never by rewriting an old one). The
advisory lock makes two processes that start at once apply each file exactly once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import asyncpg

__all__ = ["MIGRATIONS_DIR", "MigrationError", "MigrationState", "apply", "status", "verify"]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_LOCK_KEY = 0x57414C4C4554  # "WALLET"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The migration history and the files on disk disagree."""


@dataclass(frozen=True)
class MigrationFile:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class MigrationState:
    version: int
    name: str
    state: Literal["applied", "pending", "modified", "missing"]


def discover(directory: Path = MIGRATIONS_DIR) -> list[MigrationFile]:
    files: list[MigrationFile] = []
    seen: dict[int, Path] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file name not of the form NNNN_name.sql: {path.name}")
        version = int(match.group(1))
        if version in seen:
            raise MigrationError(f"two migrations share number {version}: {seen[version].name}, {path.name}")
        seen[version] = path
        files.append(MigrationFile(version, match.group(2), path))
    return files


_CREATE_HISTORY = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


async def _history(conn: asyncpg.Connection) -> dict[int, tuple[str, str]]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
    return {r["version"]: (r["name"], r["checksum"]) for r in rows}


async def status(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[MigrationState]:
    history = await _history(conn)
    states: list[MigrationState] = []
    on_disk = {f.version: f for f in discover(directory)}
    for version in sorted(set(history) | set(on_disk)):
        file = on_disk.get(version)
        if file is None:
            states.append(MigrationState(version, history[version][0], "missing"))
        elif version not in history:
            states.append(MigrationState(version, file.name, "pending"))
        elif history[version][1] != file.checksum:
            states.append(MigrationState(version, file.name, "modified"))
        else:
            states.append(MigrationState(version, file.name, "applied"))
    return states


def _refuse_if_tampered(states: list[MigrationState]) -> None:
    bad = [s for s in states if s.state in ("modified", "missing")]
    if bad:
        listing = ", ".join(f"{s.version:04d}_{s.name} ({s.state})" for s in bad)
        raise MigrationError(f"applied migrations differ from the files on disk: {listing}")


async def verify(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> None:
    """Refuse to run against a schema that is behind or was migrated from edited files."""
    states = await status(conn, directory)
    _refuse_if_tampered(states)
    pending = [s for s in states if s.state == "pending"]
    if pending:
        raise MigrationError(
            f"{len(pending)} migration(s) not applied (first: {pending[0].version:04d}); run `wallet migrate`"
        )


async def apply(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[MigrationState]:
    """Apply every pending migration; return those applied by this call."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE_HISTORY)
        states = await status(conn, directory)
        _refuse_if_tampered(states)
        files = {f.version: f for f in discover(directory)}
        applied: list[MigrationState] = []
        for state in states:
            if state.state != "pending":
                continue
            file = files[state.version]
            async with conn.transaction():
                await conn.execute(file.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    file.version,
                    file.name,
                    file.checksum,
                )
            applied.append(MigrationState(file.version, file.name, "applied"))
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
