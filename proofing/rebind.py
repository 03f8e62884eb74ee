"""Giving a squatted identity back to the person it belongs to.

Whoever held the account before (a squatter, or the owner on a lost phone) loses it in one
transaction, each step audited: every device revoked, every session ended, every live
wallet link frozen for review (active links go ``under_review``; links still being made are
refused), the phone number and password replaced by the proven person's, payouts cooled
off, and the account raised to level 2. Outside the transaction, because they are not in
PostgreSQL: the open presentation codes are burnt (Redis) and the old phone is told by SMS.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from documents.presentation import burn_open_codes
from payments.linking import store as links
from wallet_api.accounts.level_two import raise_to_level_2
from wallet_api.accounts.sessions import revoke_account_sessions
from wallet_api.kernel import Conflict, SendFailed, SmsSender, publish_session_end, record

__all__ = ["Rebound", "after_rebind", "rebind_identity"]

log = logging.getLogger(__name__)

_IN_PROGRESS = ("requested", "inquiring", "awaiting_otp", "confirming")
_OLD_PHONE_TEXT = (
    "Citizen Wallet: tài khoản gắn với số định danh này đã được trả lại cho chủ sở hữu sau khi xác minh "
    "CCCD gắn chip và khuôn mặt. Thiết bị của bạn đã bị đăng xuất. Nếu có nhầm lẫn, hãy liên hệ cơ quan công an."
)


@dataclass(frozen=True, slots=True)
class Rebound:
    account_id: uuid.UUID
    old_phone: str
    new_phone: str


async def rebind_identity(
    conn: asyncpg.Connection,
    person_id: str,
    *,
    phone: str,
    password_hash: str | None,
    actor: str,
    via: str,
    cooling_off_seconds: int,
    details: dict[str, Any] | None = None,
) -> Rebound:
    """In the caller's transaction: the person's account now belongs to whoever was proven."""
    account = await conn.fetchrow("SELECT id, phone, state FROM accounts WHERE person_id = $1 FOR UPDATE", person_id)
    if account is None:
        raise Conflict("This person has no account; they register in the app.", slug="no-account-to-recover")
    if account["state"] != "active":
        raise Conflict("The account is frozen.", slug="account-frozen")
    account_id: uuid.UUID = account["id"]
    subject = f"account:{account_id}"
    devices = await conn.fetch(
        "UPDATE devices SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL RETURNING id", account_id
    )
    await revoke_account_sessions(conn, account_id, "identity-recovered")
    await record(
        conn,
        actor=actor,
        action="device.revoked",
        subject=subject,
        details={"device_ids": [str(d["id"]) for d in devices], "reason": "identity-recovered"},
    )
    frozen = await _freeze_links(conn, account_id, actor)
    locked_until = datetime.now(UTC) + timedelta(seconds=cooling_off_seconds)
    await conn.execute(
        """UPDATE accounts SET phone = $2, password_hash = $3,
               payout_locked_until = greatest(payout_locked_until, $4), updated_at = now()
           WHERE id = $1""",
        account_id,
        phone,
        password_hash,
        locked_until,
    )
    await raise_to_level_2(conn, account_id, actor=actor, via=via, details=details)
    await record(
        conn,
        actor=actor,
        action="account.recovered",
        subject=subject,
        details={
            "via": via,
            "devices_revoked": len(devices),
            "wallet_links_frozen": frozen,
            "phone_changed": account["phone"] != phone,
            **(details or {}),
        },
    )
    return Rebound(account_id=account_id, old_phone=account["phone"], new_phone=phone)


async def _freeze_links(conn: asyncpg.Connection, account_id: uuid.UUID, actor: str) -> int:
    """Active links go to review; links still being made are refused. Returns how many."""
    rows = await conn.fetch(
        """SELECT id, state FROM wallet_links WHERE account_id = $1
           AND state IN ('requested', 'inquiring', 'awaiting_otp', 'confirming', 'active') FOR UPDATE""",
        account_id,
    )
    for row in rows:
        if row["state"] == "active":
            moved = await links.move(
                conn, row["id"], from_states=("active",), to="under_review", reason="identity_recovered", actor=actor
            )
            if moved is not None:
                await conn.execute(
                    "UPDATE wallet_links SET review_reason = 'identity_recovered' WHERE id = $1", row["id"]
                )
                await record(
                    conn,
                    actor=actor,
                    action="wallet_link.frozen",
                    subject=str(row["id"]),
                    details={"account_id": str(account_id), "reason": "identity_recovered"},
                )
        else:
            await links.move(
                conn, row["id"], from_states=_IN_PROGRESS, to="refused", reason="identity_recovered", actor=actor
            )
    return len(rows)


async def after_rebind(
    db: asyncpg.Pool, redis: aioredis.Redis, sms: SmsSender, rebound: Rebound, *, actor: str
) -> None:
    """What is not in PostgreSQL: end the old devices' streams, burn open presentation codes, tell the old phone."""
    await publish_session_end(redis, rebound.account_id)
    burnt = await burn_open_codes(redis, str(rebound.account_id))
    told = False
    if rebound.old_phone != rebound.new_phone:
        try:
            await sms.send(rebound.old_phone, _OLD_PHONE_TEXT, reference=f"recovered:{rebound.account_id}")
            told = True
        except SendFailed:
            log.warning("old-phone notice failed")
    async with db.acquire() as conn, conn.transaction():
        await record(
            conn,
            actor=actor,
            action="account.recovery_notified",
            subject=f"account:{rebound.account_id}",
            details={"presentation_codes_burnt": burnt, "old_phone_told": told},
        )
