"""Whose data a citizen may act on: their own account, and children under 14 they manage.

Other domains call :func:`may_act_for` before reading or changing data that belongs to an
account id taken from the request (a path parameter, a body field), so that citizen A can
never reach citizen B's documents or payments by guessing an id.
"""

from __future__ import annotations

import uuid

import asyncpg

from wallet_api.auth.principal import Principal

__all__ = ["guardianship_current", "managed_account_ids", "may_act_for"]


def guardianship_current(accounts: str) -> str:
    """The one statement of the guardian rule, as SQL about the row ``accounts`` (an alias of
    ``accounts``): the guardian its ``guardian_account_id`` names manages it until the child's
    14th birthday (``guardian_until``). Notices about the child are copied to that guardian
    (notifications/consumer.py) by this same condition."""
    return f"({accounts}.guardian_until IS NULL OR {accounts}.guardian_until > current_date)"


# Acting on a child's data also needs the child's account active: a frozen or closed account
# is acted on by nobody, while its guardian is still told what happens to it.
_MANAGED = f"""
SELECT id FROM accounts a
WHERE a.guardian_account_id = $1 AND a.state = 'active' AND {guardianship_current("a")}
"""


async def managed_account_ids(conn: asyncpg.Connection | asyncpg.Pool, principal: Principal) -> list[uuid.UUID]:
    """The citizen's own account id first, then the children they manage."""
    if principal.kind != "citizen":
        return []
    own = uuid.UUID(principal.subject)
    return [own, *(r["id"] for r in await conn.fetch(_MANAGED, own))]


async def may_act_for(conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, account_id: uuid.UUID) -> bool:
    if principal.kind != "citizen":
        return False
    own = uuid.UUID(principal.subject)
    if account_id == own:
        return True
    found = await conn.fetchval(_MANAGED + " AND id = $2", own, account_id)
    return found is not None
