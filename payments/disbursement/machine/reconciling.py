"""After sending: what a provider's statement says about payments already settled here.

Each move starts only from the states it may, so re-importing a statement converges: a
payment the statement matches is reconciled (also one an earlier statement sent to review),
one it contradicts goes to manual review, one the provider took back is reversed.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from payments.disbursement import BULK_TIMEOUT
from payments.disbursement.machine.moves import RECONCILE, RECONCILE_REVIEWED, REVERSE, REVIEW

__all__ = ["reconcile", "reconcile_reviewed", "reverse", "review"]

_RECONCILE = f"UPDATE payments SET state = 'reconciled' WHERE id = ANY($1::uuid[]) AND {RECONCILE.guard()}"

_RECONCILE_REVIEWED = f"""
UPDATE payments p SET state = 'reconciled', settled_at = coalesce(p.settled_at, now()),
       provider_ref = coalesce(p.provider_ref, m.ref)
FROM unnest($1::uuid[], $2::text[]) AS m(id, ref)
WHERE p.id = ANY($1::uuid[]) AND p.id = m.id AND {RECONCILE_REVIEWED.guard("p.state")}
RETURNING p.id
"""

_REVIEW = f"UPDATE payments SET state = 'manual_review' WHERE id = ANY($1::uuid[]) AND {REVIEW.guard()}"

_REVERSE = f"UPDATE payments SET state = 'reversed' WHERE id = ANY($1::uuid[]) AND {REVERSE.guard()} RETURNING id"


async def reconcile(conn: asyncpg.Connection, payment_ids: Sequence[UUID]) -> None:
    """Succeeded → reconciled: the statement shows the payout as we recorded it."""
    await conn.execute(_RECONCILE, list(payment_ids), timeout=BULK_TIMEOUT)


async def reconcile_reviewed(
    conn: asyncpg.Connection, payment_ids: Sequence[UUID], provider_refs: Sequence[str | None]
) -> list[UUID]:
    """Manual review → reconciled: an earlier statement (or unanswered status queries) sent
    them to review, this one shows them paid. Returns those moved."""
    rows = await conn.fetch(_RECONCILE_REVIEWED, list(payment_ids), list(provider_refs), timeout=BULK_TIMEOUT)
    return [r["id"] for r in rows]


async def review(conn: asyncpg.Connection, payment_ids: Sequence[UUID]) -> None:
    """→ manual review: the statement contradicts what we recorded."""
    await conn.execute(_REVIEW, list(payment_ids))


async def reverse(conn: asyncpg.Connection, payment_ids: Sequence[UUID]) -> list[UUID]:
    """Succeeded or reconciled → reversed: the provider took the payout back. Returns those moved."""
    return [r["id"] for r in await conn.fetch(_REVERSE, list(payment_ids))]
