"""SQL for wallet links: every state change in one place, each with its events and audit.

Every transition is conditional on the state it starts from, so a retried outbox event,
a citizen who unlinks while the provider is still answering, or two workers racing change
nothing twice. ``wallet.link_state`` is published for the states the citizen must see
(awaiting_otp, active, refused, failed, under_review, unlinked), ``wallet.payout_changed``
whenever the payout wallet is added or changed.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from payments import events
from wallet_api.kernel import publish, record

__all__ = [
    "activate",
    "flag_many_to_one",
    "load_for_processing",
    "move",
]

_VISIBLE = {"awaiting_otp", "active", "refused", "failed", "under_review", "unlinked"}

_LOAD = """
SELECT l.*, a.person_id, a.state AS account_state, a.full_name
FROM wallet_links l
JOIN account_contacts a ON a.account_id = l.account_id
WHERE l.id = $1
"""


async def load_for_processing(conn: asyncpg.Connection | asyncpg.Pool, link_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(_LOAD, link_id)
    return row


async def publish_state(conn: asyncpg.Connection, row: Any) -> None:
    if row["state"] in _VISIBLE:
        key, payload = events.wallet_link_state(row)
        await publish(conn, events.WALLET_LINK_STATE, payload, key=key)


async def publish_payout_changed(conn: asyncpg.Connection, row: Any) -> None:
    key, payload = events.wallet_payout_changed(row)
    await publish(conn, events.WALLET_PAYOUT_CHANGED, payload, key=key)


async def move(
    conn: asyncpg.Connection,
    link_id: UUID,
    *,
    from_states: tuple[str, ...],
    to: str,
    reason: str | None = None,
    actor: str = "system:linking",
    **extra: Any,
) -> asyncpg.Record | None:
    """Move a link from one of ``from_states`` to ``to`` (in the caller's transaction).

    Returns the updated row, or None when the link was not in one of those states.
    ``extra`` sets more columns: otp_attempts_increment, otp_requested.
    """
    sets = ["state = $3", "refusal_reason = $4", "updated_at = now()"]
    if extra.get("otp_attempts_increment"):
        sets.append("otp_attempts = otp_attempts + 1")
    if extra.get("otp_requested"):
        sets.append("otp_requested_at = now()")
    if to == "unlinked":
        sets += ["unlinked_at = now()", "is_default = false"]
    if to in ("refused", "failed", "under_review"):
        sets.append("is_default = false")
    row: asyncpg.Record | None = await conn.fetchrow(
        f"UPDATE wallet_links SET {', '.join(sets)} WHERE id = $1 AND state = ANY($2::text[]) RETURNING *",
        link_id,
        list(from_states),
        to,
        reason,
    )
    if row is None:
        return None
    await publish_state(conn, row)
    if to in ("refused", "failed", "unlinked", "active"):
        await record(
            conn,
            actor=actor,
            action=f"wallet_link.{to}",
            subject=str(link_id),
            details={"account_id": str(row["account_id"]), "provider": row["provider"], "reason": reason},
        )
    return row


async def flag_many_to_one(conn: asyncpg.Connection, link: Any, from_states: tuple[str, ...]) -> bool:
    """If another citizen holds this wallet account, flag both links for review.

    The provider just told us the wallet's owner is this citizen, so another citizen's link
    to it is stale (a recycled phone number, a sold SIM) or fraudulent: neither may receive
    payouts until an officer looks. Returns True when flagged.
    """
    others = await conn.fetch(
        """SELECT id FROM wallet_links
           WHERE provider = $1 AND wallet_account = $2 AND account_id <> $3
             AND state IN ('active', 'under_review')
           FOR UPDATE""",
        link["provider"],
        link["wallet_account"],
        link["account_id"],
    )
    if not others:
        return False
    reason = "wallet_linked_to_another_citizen"
    flagged = await conn.fetchrow(
        """UPDATE wallet_links SET state = 'under_review', refusal_reason = $3, review_reason = $3,
                  is_default = false, updated_at = now()
           WHERE id = $1 AND state = ANY($2::text[]) RETURNING *""",
        link["id"],
        list(from_states),
        reason,
    )
    if flagged is None:
        return True
    await publish_state(conn, flagged)
    for other in others:
        moved = await conn.fetchrow(
            """UPDATE wallet_links SET state = 'under_review', refusal_reason = $2, review_reason = $2,
                      is_default = false, updated_at = now()
               WHERE id = $1 AND state = 'active' RETURNING *""",
            other["id"],
            reason,
        )
        if moved is not None:
            await publish_state(conn, moved)
    await record(
        conn,
        actor="system:linking",
        action="wallet_link.flagged_many_to_one",
        subject=str(link["id"]),
        details={
            "provider": link["provider"],
            "account_id": str(link["account_id"]),
            "other_link_ids": [str(o["id"]) for o in others],
        },
    )
    return True


async def activate(conn: asyncpg.Connection, link_id: UUID, cooling_off_seconds: int) -> asyncpg.Record | None:
    """Consent confirmed: the link becomes active, and the payout wallet if it should be."""
    link = await conn.fetchrow("SELECT * FROM wallet_links WHERE id = $1 FOR UPDATE", link_id)
    if link is None or link["state"] != "confirming":
        return None
    if await flag_many_to_one(conn, link, ("confirming",)):
        return None
    # Serialise default changes of one citizen: lock their account row.
    await conn.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", link["account_id"])
    has_default = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM wallet_links WHERE account_id = $1 AND is_default AND state = 'active')",
        link["account_id"],
    )
    make_default = link["make_default"] or not has_default
    if make_default:
        await conn.execute(
            "UPDATE wallet_links SET is_default = false, updated_at = now() WHERE account_id = $1 AND is_default",
            link["account_id"],
        )
    row = await conn.fetchrow(
        """UPDATE wallet_links
           SET state = 'active', refusal_reason = NULL, activated_at = now(), updated_at = now(),
               is_default = $2,
               payout_hold_until = CASE WHEN $2 THEN now() + make_interval(secs => $3) ELSE payout_hold_until END
           WHERE id = $1 RETURNING *""",
        link_id,
        make_default,
        cooling_off_seconds,
    )
    assert row is not None
    await publish_state(conn, row)
    if make_default:
        await publish_payout_changed(conn, row)
    await record(
        conn,
        actor="system:linking",
        action="wallet_link.active",
        subject=str(link_id),
        details={"account_id": str(row["account_id"]), "provider": row["provider"], "default": make_default},
    )
    return row


async def make_default(
    conn: asyncpg.Connection, account_id: UUID, link_id: UUID, cooling_off_seconds: int, actor: str
) -> tuple[asyncpg.Record | None, bool]:
    """Make an active link the payout wallet; (row, changed). Starts the cooling-off period."""
    await conn.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", account_id)
    link = await conn.fetchrow(
        "SELECT * FROM wallet_links WHERE id = $1 AND account_id = $2 FOR UPDATE", link_id, account_id
    )
    if link is None or link["state"] != "active":
        return link, False
    if link["is_default"]:
        return link, False
    await conn.execute(
        "UPDATE wallet_links SET is_default = false, updated_at = now() WHERE account_id = $1 AND is_default",
        account_id,
    )
    row = await conn.fetchrow(
        """UPDATE wallet_links SET is_default = true, updated_at = now(),
                  payout_hold_until = now() + make_interval(secs => $2)
           WHERE id = $1 RETURNING *""",
        link_id,
        cooling_off_seconds,
    )
    await publish_payout_changed(conn, row)
    await record(
        conn,
        actor=actor,
        action="wallet_link.payout_changed",
        subject=str(link_id),
        details={"account_id": str(account_id), "provider": link["provider"]},
    )
    return row, True
