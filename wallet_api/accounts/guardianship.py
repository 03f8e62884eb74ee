"""Guardianship: who manages a child's account (under 14), by the one rule every reader uses.

Each guardian of a child is a row of ``account_guardians`` (``since``, ``until`` the child's
14th birthday), so both parents the population registry records can manage their child's
account. Who is a guardian *today* is the SQL view ``guardianship_current``
(migrations/0820_account_guardians.sql): this module, :mod:`wallet_api.accounts.access` and
the notifications consumer (a guardian's copy of a notice about the child) read that view and
never the table, so a guardianship ends at its ``until`` for all of them at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import asyncpg

from wallet_api.kernel import publish_many

__all__ = ["GuardianshipEnded", "current_guardians", "link_guardian", "managed_among", "tell_other_guardians"]


class GuardianshipEnded(Exception):
    """This citizen was the child's guardian, and that guardianship has ended."""


_LINK = """
INSERT INTO account_guardians (child_account_id, guardian_account_id, until) VALUES ($1, $2, $3)
ON CONFLICT (child_account_id, guardian_account_id) DO NOTHING
RETURNING since
"""
_IS_CURRENT = "SELECT 1 FROM guardianship_current WHERE child_account_id = $1 AND guardian_account_id = $2"


async def link_guardian(conn: asyncpg.Connection, child: uuid.UUID, guardian: uuid.UUID, until: date) -> bool:
    """Make ``guardian`` a guardian of ``child`` until ``until``; True if newly made.

    Linking again while the guardianship holds changes nothing; one that has ended is not
    renewed by linking (:class:`GuardianshipEnded`): it ended for a reason.
    """
    if await conn.fetchval(_LINK, child, guardian, until) is not None:
        return True
    if await conn.fetchval(_IS_CURRENT, child, guardian) is None:
        raise GuardianshipEnded
    return False


async def tell_other_guardians(conn: asyncpg.Connection, child: uuid.UUID, guardian: uuid.UUID) -> None:
    """Tell each other current guardian of ``child`` that ``guardian`` has just linked.

    Call it in the transaction that made the link: a parent must not learn of another's
    control of their child's account only from the audit log. The event carries ids only;
    the notice names no one (``account.guardian_linked`` in docs/notifications.md).
    """
    others = [g for g in await current_guardians(conn, child) if g != guardian]
    payloads = [
        {"account_id": str(g), "child_account_id": str(child), "guardian_account_id": str(guardian)} for g in others
    ]
    await publish_many(conn, "account.guardian_linked", [(str(child), p) for p in payloads])


async def current_guardians(conn: asyncpg.Connection | asyncpg.Pool, child: uuid.UUID) -> list[uuid.UUID]:
    """The child's guardians today, the earliest first."""
    rows = await conn.fetch(
        "SELECT guardian_account_id FROM guardianship_current WHERE child_account_id = $1 ORDER BY since",
        child,
    )
    return [r["guardian_account_id"] for r in rows]


async def managed_among(
    conn: asyncpg.Connection | asyncpg.Pool, guardian: uuid.UUID, children: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these children's accounts ``guardian`` manages today."""
    rows = await conn.fetch(
        """SELECT child_account_id FROM guardianship_current
           WHERE guardian_account_id = $1 AND child_account_id = ANY($2::uuid[])""",
        guardian,
        list(children),
    )
    return {r["child_account_id"] for r in rows}
