"""Officers review links flagged ``under_review`` (one wallet account claimed by several citizens).

An officer lists the flagged links and decides each: ``reinstate`` (the citizen does own the
wallet: the link is active again, not the payout wallet until the citizen chooses it, which
starts a cooling-off) or ``close`` (refused with ``closed_after_review``). Both are audited.
Only the platform's admins decide: the review compares identities across citizens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, Parameter

from payments.linking import store
from wallet_api.kernel import Caller, Conflict, Db, NotFound, officer_with_role

__all__ = ["WalletLinkReviewController"]


class ReviewItem(msgspec.Struct):
    id: UUID
    account_id: UUID
    provider: str
    wallet_account: str
    review_reason: str | None
    updated_at: datetime


class ReviewDecision(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["reinstate", "close"]


class ReviewOutcome(msgspec.Struct):
    id: UUID
    state: str
    reason: str | None


class WalletLinkReviewController(Controller):
    path = "/v1/admin/wallet-links"
    tags = ("wallet links",)
    guards = (officer_with_role("admin"),)

    @get("/under-review", summary="Wallet links flagged for review, oldest first")
    async def under_review(self, db: Db, limit: Annotated[int, Parameter(ge=1, le=500)] = 100) -> list[ReviewItem]:
        rows = await db.fetch(
            """SELECT id, account_id, provider, wallet_account, review_reason, updated_at FROM wallet_links
               WHERE state = 'under_review' ORDER BY updated_at LIMIT $1""",
            limit,
        )
        return [ReviewItem(**dict(r)) for r in rows]

    @post("/{link_id:uuid}/review", status_code=200, summary="Reinstate or close a flagged wallet link")
    async def decide(self, principal: Caller, link_id: FromPath[UUID], data: ReviewDecision, db: Db) -> ReviewOutcome:
        actor = principal.key
        async with db.acquire() as conn, conn.transaction():
            if data.decision == "close":
                row = await store.move(
                    conn,
                    link_id,
                    from_states=("under_review",),
                    to="refused",
                    reason="closed_after_review",
                    actor=actor,
                )
            else:
                try:
                    row = await store.move(
                        conn, link_id, from_states=("under_review",), to="active", reason=None, actor=actor
                    )
                except asyncpg.UniqueViolationError:
                    raise Conflict(
                        "Another citizen's link to this wallet is active; close one of them first.",
                        slug="wallet-link-state",
                        title="The wallet is linked to another citizen",
                    ) from None
            if row is None:
                exists = await conn.fetchval("SELECT state FROM wallet_links WHERE id = $1", link_id)
                if exists is None:
                    raise NotFound("No such wallet link.")
                raise Conflict(
                    f"This link is {exists}, not under review.", slug="wallet-link-state", title="Not under review"
                )
        return ReviewOutcome(id=row["id"], state=row["state"], reason=row["refusal_reason"])
