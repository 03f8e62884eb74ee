"""docs/schema.sql is what the migrations make (refresh it with `wallet schema dump`)."""

from __future__ import annotations

import difflib

from tests.support.servers import ServerSet
from wallet_api.schema_snapshot import REFRESH, SNAPSHOT, current_schema


async def test_the_checked_in_schema_snapshot_is_what_the_migrations_make(servers: ServerSet) -> None:
    made = await current_schema(servers.admin_url)
    checked_in = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    diff = list(
        difflib.unified_diff(
            checked_in.splitlines(), made.splitlines(), "docs/schema.sql", "migrations", n=1, lineterm=""
        )
    )
    assert not diff, f"docs/schema.sql is out of date: run `{REFRESH}` and commit it.\n" + "\n".join(diff[:60])
