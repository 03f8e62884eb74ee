"""Whose data a citizen may act on: their own account, and children under 14 they manage.

Other domains call :func:`may_act_for` before reading or changing data that belongs to an
account id taken from the request (a path parameter, a body field), so that citizen A can
never reach citizen B's documents or payments by guessing an id.
"""

from __future__ import annotations

import uuid

import asyncpg

from wallet_api.kernel import Principal

__all__ = ["managed_account_ids", "may_act_for"]

# A guardian (the view guardianship_current, wallet_api/accounts/guardianship.py) acts on a
# child's data only while the child's account is active: a frozen or closed account is acted
# on by nobody, while its guardians are still told what happens to it.
_MANAGED = """
SELECT a.id FROM guardianship_current g JOIN accounts a ON a.id = g.child_account_id
WHERE g.guardian_account_id = $1 AND a.state = 'active'
"""


async def managed_account_ids(conn: asyncpg.Connection | asyncpg.Pool, principal: Principal) -> list[uuid.UUID]:
    """The citizen's own account id first, then the children they manage."""
    if principal.kind != "citizen":
        return []
    own = uuid.UUID(principal.subject)
    return [own, *(r["id"] for r in await conn.fetch(_MANAGED + " ORDER BY g.since", own))]


async def may_act_for(conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, account_id: uuid.UUID) -> bool:
    if principal.kind != "citizen":
        return False
    own = uuid.UUID(principal.subject)
    if account_id == own:
        return True
    found = await conn.fetchval(_MANAGED + " AND a.id = $2", own, account_id)
    return found is not None
