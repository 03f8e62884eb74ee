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
from wallet_api.kernel import Consumer, EventFailure, OutboxEvent, WorkerContext

__all__ = ["expire_holds", "release_holds", "stop_deceased", "sweep_holds_once"]

# A death stops the person's future payments (beneficiary stopped) and pending ones (held
# with a window that has already ended, so they are returned on the next sweep).
_STOP_BENEFICIARIES = """
UPDATE beneficiaries b SET state = 'stopped', stopped_reason = 'deceased', stopped_at = now()
FROM population pop
WHERE pop.status = 'deceased' AND b.person_id = pop.person_id AND b.state = 'active'
"""


async def release_holds(conn: asyncpg.Connection, account_ids: Sequence[UUID] | None, limit: int = 1000) -> int:
    """Release held payments whose citizen now has a wallet that may receive money."""
    await machine.act_as(conn, "disbursement:holds", "wallet_linked")
    return len(await machine.release_holds(conn, account_ids, limit))


async def expire_holds(conn: asyncpg.Connection, limit: int = 1000) -> int:
    """Return the money of held payments whose window has ended."""
    await machine.act_as(conn, "disbursement:holds", "hold_window_ended")
    returned = await machine.expire_holds(conn, limit)
    await ledger.post_payments(conn, "expire", returned)
    return len(returned)


async def stop_deceased(conn: asyncpg.Connection, limit: int = 1000) -> int:
    await machine.act_as(conn, "disbursement:holds", "registry_reports_death")
    stopped: str = await conn.execute(_STOP_BENEFICIARIES)
    return int(stopped.split()[-1]) + await machine.hold_deceased(conn, limit)


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


WALLET_CHANGES = Consumer(
    name="disbursement-wallet-changes",
    topics=(WALLET_LINK_STATE, WALLET_PAYOUT_CHANGED, ACCOUNT_LEVEL_RAISED),
    handle=_on_wallet_change,
    batch_size=200,
)
