"""Raising an account to level 2 (định danh mức 2), by whichever proof: police desk or chip + face."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from wallet_api.kernel import publish, record

__all__ = ["raise_to_level_2"]


async def raise_to_level_2(
    conn: asyncpg.Connection, account_id: uuid.UUID, *, actor: str, via: str, details: dict[str, Any] | None = None
) -> bool:
    """In the caller's transaction: level 2, announced and audited; False if it already was.

    ``via`` says how the person was proven (``police`` or ``chip+face``); ``details`` hold
    ids and scores only, never personal data.
    """
    raised = await conn.fetchval(
        """UPDATE accounts SET level = 2, level_raised_at = now(), level_raised_by = $2, updated_at = now()
           WHERE id = $1 AND level < 2 RETURNING id""",
        account_id,
        actor,
    )
    if raised is not None:
        await publish(conn, "account.level_raised", {"account_id": str(account_id), "level": 2}, key=str(account_id))
    await record(
        conn,
        actor=actor,
        action="account.level_raised",
        subject=f"account:{account_id}",
        details={"level": 2, "via": via, "already": raised is None, **(details or {})},
    )
    return raised is not None
