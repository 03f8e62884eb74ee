"""Claiming payments to send, and the claims whose worker died.

A claim moves the approved payments a worker has locked (``FOR UPDATE SKIP LOCKED`` in the
caller's transaction) to 'sending' under the worker's lease; a payment whose person the
registry now lists as deceased is held instead. A lease that runs out leaves the outcome
unknown: only a status query can tell.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from payments.disbursement.machine.moves import CLAIM, HOLD_AT_CLAIM, LOSE_TRACK

__all__ = ["claim", "expire_leases", "hold_deceased_at_claim"]

_TO_SENDING = f"""
UPDATE payments p SET state = 'sending', lease_owner = $2, lease_until = now() + make_interval(secs => $3)
WHERE p.id = ANY($1::uuid[]) AND {CLAIM.guard("p.state")}
RETURNING p.id, p.provider, p.wallet_account, p.amount,
          (SELECT name FROM programmes WHERE id = p.programme_id) AS description
"""

_HOLD_DEAD = f"""
UPDATE payments SET state = 'held', hold_reason = 'deceased', hold_until = now(),
       provider = NULL, wallet_account = NULL, link_id = NULL
WHERE id = ANY($1::uuid[]) AND {HOLD_AT_CLAIM.guard()}
"""

# A dead worker's lease has run out: whatever it did, we no longer know.
_EXPIRE_LEASES = f"""
WITH c AS (
    SELECT id FROM payments WHERE {LOSE_TRACK.guard()} AND lease_until < now()
    ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED
)
UPDATE payments p SET state = 'unknown', lease_owner = NULL, lease_until = NULL, next_check_at = now()
FROM c WHERE p.id = c.id
"""


async def claim(
    conn: asyncpg.Connection, payment_ids: Sequence[UUID], worker_id: str, lease_seconds: float
) -> list[asyncpg.Record]:
    """Approved → sending under ``worker_id``'s lease: what to send (id, provider, wallet, amount, description)."""
    return list(await conn.fetch(_TO_SENDING, list(payment_ids), worker_id, lease_seconds))


async def hold_deceased_at_claim(conn: asyncpg.Connection, payment_ids: Sequence[UUID]) -> None:
    """Approved → held (deceased, window already ended): the hold sweep returns the money."""
    await conn.execute(_HOLD_DEAD, list(payment_ids))


async def expire_leases(conn: asyncpg.Connection, limit: int) -> int:
    """Sending → unknown for up to ``limit`` payments whose worker's lease ran out."""
    status: str = await conn.execute(_EXPIRE_LEASES, limit)
    return int(status.split()[-1])
