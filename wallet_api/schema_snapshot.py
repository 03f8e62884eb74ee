"""docs/schema.sql: what the migrations add up to, one definition per table, view and function.

The migrations are the schema's history; a function redefined in three of them is read in
the last. The snapshot is ``pg_dump --schema-only`` of a database freshly migrated on the
same PostgreSQL, with what varies between runs taken out (versions in the header, owners,
privileges), so it changes only when a migration changes the schema.
``wallet schema dump`` writes it; tests/foundation/test_schema_snapshot.py fails when the
checked-in file is not what the migrations make.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

from wallet_api.databases import migrated_database

__all__ = ["REFRESH", "SNAPSHOT", "current_schema", "schema_of"]

SNAPSHOT = Path(__file__).resolve().parent.parent / "docs" / "schema.sql"
REFRESH = "wallet schema dump"

# Lines of pg_dump's output that differ between servers and runs, not between schemas.
_VARYING = re.compile(r"^(-- Dumped (from database|by pg_dump) version .*|\\(un)?restrict .*)\n", re.M)


def _pg_dump() -> str:
    """The pg_dump beside the embedded server (same major version), else the one on PATH."""
    try:
        import pgserver
    except ImportError:
        found = None
    else:
        candidate = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
        found = str(candidate) if candidate.exists() else None
    found = found or shutil.which("pg_dump")
    if found is None:
        raise RuntimeError("no pg_dump: install pgserver (requirements.lock) or PostgreSQL's client tools")
    return found


async def schema_of(url: str) -> str:
    """``pg_dump --schema-only`` of the database at ``url``, without owners, privileges or versions."""
    process = await asyncio.create_subprocess_exec(
        _pg_dump(),
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        "--no-tablespaces",
        "--dbname",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {err.decode(errors='replace').strip()}")
    header = f"-- What the migrations in migrations/ add up to. Generated: do not edit; run `{REFRESH}`.\n"
    return header + _VARYING.sub("", out.decode())


async def current_schema(admin_url: str) -> str:
    """The snapshot the migrations make now, from a scratch database on ``admin_url``'s server."""
    async with migrated_database(admin_url, "wallet_schema") as url:
        return await schema_of(url)
