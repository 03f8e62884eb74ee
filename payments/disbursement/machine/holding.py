"""Before sending: a released batch's payments find their wallets or wait (held), and held
payments are released, returned when their window ends, or stopped by a death.

Where a payment can go (``RESOLVE`` and ``RELEASE_HOLD``): approved to the citizen's default
wallet, or held with the reason. A deceased person's payment is held with a window that has
already ended, so the hold sweep returns its money at once and the report names it. An
account below identification level 2 is never paid (docs/accounts.md, levels): its payment
waits, like one without a wallet, for level 2 and a linked wallet.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from payments.disbursement import BULK_TIMEOUT
from payments.disbursement.machine.moves import CANCEL, EXPIRE_HOLD, HOLD_DECEASED, RELEASE_HOLD, RESOLVE

__all__ = ["cancel_created", "expire_holds", "hold_deceased", "release_holds", "resolve_released"]

# One chunk of a released batch's payments per transaction (see batches.resolve_released).
_RESOLVE = f"""
WITH c AS (
    SELECT p.id FROM payments p
    WHERE p.batch_id = $1 AND {RESOLVE.guard("p.state")}
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), r AS (
    SELECT p.id, pop.status AS person_status, a.id AS account_id, a.level,
           l.id AS link_id, l.provider, l.wallet_account, l.payout_hold_until
    FROM c
    JOIN payments p ON p.id = c.id
    LEFT JOIN population pop ON pop.person_id = p.person_id
    LEFT JOIN accounts a ON a.person_id = p.person_id AND a.state = 'active'
    LEFT JOIN wallet_links l ON l.account_id = a.id AND l.is_default AND l.state = 'active'
), d AS (
    SELECT r.*, CASE
        WHEN r.person_status IS DISTINCT FROM 'alive' THEN 'deceased'
        WHEN r.level < 2 THEN 'level_required'
        WHEN r.link_id IS NULL THEN 'no_wallet'
        WHEN r.payout_hold_until > now() THEN 'wallet_cooling_off'
    END AS hold_reason
    FROM r
)
UPDATE payments p SET
    account_id = d.account_id,
    state = CASE WHEN d.hold_reason IS NULL THEN 'approved' ELSE 'held' END,
    hold_reason = d.hold_reason,
    hold_until = CASE WHEN d.hold_reason = 'deceased' THEN now()
                      WHEN d.hold_reason IS NOT NULL THEN now() + make_interval(days => $2) END,
    link_id = CASE WHEN d.hold_reason IS NULL THEN d.link_id END,
    provider = CASE WHEN d.hold_reason IS NULL THEN d.provider END,
    wallet_account = CASE WHEN d.hold_reason IS NULL THEN d.wallet_account END
FROM d WHERE p.id = d.id
RETURNING p.id, p.account_id, p.amount, p.state, p.hold_reason, p.hold_until
"""

_CANCEL = f"UPDATE payments SET state = 'cancelled' WHERE batch_id = $1 AND {CANCEL.guard()}"

# Held payments whose citizen now has an eligible default wallet (or a wallet still cooling
# off: then only the reason and account are brought up to date).
_RELEASE = f"""
WITH c AS (
    SELECT p.id FROM payments p
    WHERE {RELEASE_HOLD.guard("p.state")} AND p.hold_reason IN ('no_wallet', 'wallet_cooling_off', 'level_required')
      AND p.hold_until > now()
      AND ($1::uuid[] IS NULL OR p.account_id = ANY($1::uuid[])
           OR p.person_id IN (SELECT person_id FROM accounts WHERE id = ANY($1::uuid[])))
    ORDER BY p.hold_until
    LIMIT $2
    FOR UPDATE OF p SKIP LOCKED
), r AS (
    SELECT c.id, a.id AS account_id, l.id AS link_id, l.provider, l.wallet_account, l.payout_hold_until
    FROM c
    JOIN payments p ON p.id = c.id
    JOIN accounts a ON a.person_id = p.person_id AND a.state = 'active' AND a.level >= 2
    JOIN wallet_links l ON l.account_id = a.id AND l.is_default AND l.state = 'active'
)
UPDATE payments p SET
    account_id = r.account_id,
    state = CASE WHEN r.payout_hold_until > now() THEN 'held' ELSE 'approved' END,
    hold_reason = CASE WHEN r.payout_hold_until > now() THEN 'wallet_cooling_off' END,
    hold_until = CASE WHEN r.payout_hold_until > now() THEN p.hold_until END,
    link_id = CASE WHEN r.payout_hold_until > now() THEN NULL ELSE r.link_id END,
    provider = CASE WHEN r.payout_hold_until > now() THEN NULL ELSE r.provider END,
    wallet_account = CASE WHEN r.payout_hold_until > now() THEN NULL ELSE r.wallet_account END
FROM r
WHERE p.id = r.id
  AND (p.hold_reason IS DISTINCT FROM CASE WHEN r.payout_hold_until > now() THEN 'wallet_cooling_off' END)
RETURNING p.id
"""

_EXPIRE = f"""
WITH c AS (
    SELECT id FROM payments WHERE {EXPIRE_HOLD.guard()} AND hold_until <= now()
    ORDER BY hold_until LIMIT $1 FOR UPDATE SKIP LOCKED
)
UPDATE payments p SET state = 'returned', hold_until = p.hold_until
FROM c WHERE p.id = c.id
RETURNING p.id
"""

_HOLD_DECEASED = f"""
WITH c AS (
    SELECT p.id FROM payments p JOIN population pop ON pop.person_id = p.person_id AND pop.status = 'deceased'
    WHERE {HOLD_DECEASED.guard("p.state")} AND p.hold_reason <> 'deceased'
    LIMIT $1 FOR UPDATE OF p SKIP LOCKED
)
UPDATE payments p SET hold_reason = 'deceased', hold_until = now() FROM c WHERE p.id = c.id
"""


async def resolve_released(
    conn: asyncpg.Connection, batch_id: UUID, hold_days: int, limit: int
) -> list[asyncpg.Record]:
    """Created → approved or held for up to ``limit`` payments of a released batch: (id,
    account_id, amount, state, hold_reason, hold_until) of each."""
    return list(await conn.fetch(_RESOLVE, batch_id, hold_days, limit, timeout=BULK_TIMEOUT))


async def cancel_created(conn: asyncpg.Connection, batch_id: UUID) -> None:
    """Created → cancelled: every payment of a batch cancelled before release."""
    await conn.execute(_CANCEL, batch_id)


async def release_holds(conn: asyncpg.Connection, account_ids: Sequence[UUID] | None, limit: int) -> list[UUID]:
    """Held → approved (or held, still cooling off) for payments of these accounts (None: any)."""
    rows = await conn.fetch(_RELEASE, list(account_ids) if account_ids is not None else None, limit)
    return [r["id"] for r in rows]


async def expire_holds(conn: asyncpg.Connection, limit: int) -> list[UUID]:
    """Held → returned for up to ``limit`` payments whose window has ended."""
    return [r["id"] for r in await conn.fetch(_EXPIRE, limit)]


async def hold_deceased(conn: asyncpg.Connection, limit: int) -> int:
    """Held → held (deceased, window ended now) for up to ``limit`` payments of people who died."""
    status: str = await conn.execute(_HOLD_DECEASED, limit)
    return int(status.split()[-1])
