"""Held payments: released when the citizen links a wallet, returned when the window ends,
and stopped when the registry reports a death.

A payment is held at release when its beneficiary's account is below identification
level 2 (``level_required``), has no linked wallet, a wallet still in its cooling-off
period (a new link or a changed payout wallet waits, against SIM-swap fraud), or is
recorded as deceased. The citizen is told (``payment.held``); reaching level 2 and linking
a wallet within the window releases the payment at once (the ``wallet.link_state``,
``wallet.payout_changed`` and ``account.level_raised`` events) or at the latest on the
next sweep; when the window ends the money goes back to the programme (``returned``) and
the batch's not-reached report lists the person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg

from payments.disbursement import ledger, machine
from payments.events import ACCOUNT_LEVEL_RAISED, WALLET_LINK_STATE, WALLET_PAYOUT_CHANGED, account_of
from wallet_api.outbox import Consumer, EventFailure, OutboxEvent, register
from wallet_api.worker_context import WorkerContext

__all__ = ["expire_holds", "release_holds", "stop_deceased", "sweep_holds_once"]

# Held payments whose citizen now has an eligible default wallet (or a wallet still cooling
# off: then only the reason and account are brought up to date).
_RELEASE = """
WITH c AS (
    SELECT p.id FROM payments p
    WHERE p.state = 'held' AND p.hold_reason IN ('no_wallet', 'wallet_cooling_off', 'level_required')
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

_EXPIRE = """
WITH c AS (
    SELECT id FROM payments WHERE state = 'held' AND hold_until <= now()
    ORDER BY hold_until LIMIT $1 FOR UPDATE SKIP LOCKED
)
UPDATE payments p SET state = 'returned', hold_until = p.hold_until
FROM c WHERE p.id = c.id
RETURNING p.id
"""

# A death stops the person's future payments (beneficiary stopped) and pending ones (held
# with a window that has already ended, so they are returned on the next sweep).
_STOP_BENEFICIARIES = """
UPDATE beneficiaries b SET state = 'stopped', stopped_reason = 'deceased', stopped_at = now()
FROM population pop
WHERE pop.status = 'deceased' AND b.person_id = pop.person_id AND b.state = 'active'
"""

_HOLD_DECEASED = """
WITH c AS (
    SELECT p.id FROM payments p JOIN population pop ON pop.person_id = p.person_id AND pop.status = 'deceased'
    WHERE p.state = 'held' AND p.hold_reason <> 'deceased'
    LIMIT $1 FOR UPDATE OF p SKIP LOCKED
)
UPDATE payments p SET hold_reason = 'deceased', hold_until = now() FROM c WHERE p.id = c.id
"""


async def release_holds(conn: asyncpg.Connection, account_ids: Sequence[UUID] | None, limit: int = 1000) -> int:
    """Release held payments whose citizen now has a wallet that may receive money."""
    await machine.act_as(conn, "disbursement:holds", "wallet_linked")
    rows = await conn.fetch(_RELEASE, list(account_ids) if account_ids is not None else None, limit)
    return len(rows)


async def expire_holds(conn: asyncpg.Connection, limit: int = 1000) -> int:
    """Return the money of held payments whose window has ended."""
    await machine.act_as(conn, "disbursement:holds", "hold_window_ended")
    rows = await conn.fetch(_EXPIRE, limit)
    await ledger.post_payments(conn, "expire", [r["id"] for r in rows])
    return len(rows)


async def stop_deceased(conn: asyncpg.Connection, limit: int = 1000) -> int:
    await machine.act_as(conn, "disbursement:holds", "registry_reports_death")
    stopped: str = await conn.execute(_STOP_BENEFICIARIES)
    held: str = await conn.execute(_HOLD_DECEASED, limit)
    return int(stopped.split()[-1]) + int(held.split()[-1])


async def sweep_holds_once(ctx: WorkerContext) -> int:
    """One pass of the hold sweep (deaths, releases, expiries), each in its own transaction."""
    done = 0
    for step in (stop_deceased, _release_all, expire_holds):
        async with ctx.pool.acquire() as conn, conn.transaction():
            done += await step(conn)
    return done


async def _release_all(conn: asyncpg.Connection) -> int:
    return await release_holds(conn, None)


async def _on_wallet_change(events: list[OutboxEvent], ctx: WorkerContext) -> Mapping[int, EventFailure] | None:
    accounts = sorted({a for e in events if (a := account_of(e.payload)) is not None})
    if accounts:
        async with ctx.pool.acquire() as conn, conn.transaction():
            await release_holds(conn, accounts, limit=10_000)
    return None


WALLET_CHANGES = register(
    Consumer(
        name="disbursement-wallet-changes",
        topics=(WALLET_LINK_STATE, WALLET_PAYOUT_CHANGED, ACCOUNT_LEVEL_RAISED),
        handle=_on_wallet_change,
        batch_size=200,
    )
)
