"""Addresses a citizen gives a channel (e-mail) and proves they receive, with a code sent there.

A code is six digits, valid ``CODE_TTL`` seconds, stored only as a SHA-256 digest bound to
the account, channel and address being confirmed; ``MAX_TRIES`` wrong answers burn it. A new
code may be asked for once a minute and ``CODES_PER_HOUR`` times an hour per account and
channel, so nobody can make us mail someone else's box more than that. Until a new address
is confirmed, the previously confirmed one keeps receiving notices.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

__all__ = [
    "CODES_PER_HOUR",
    "CODE_TTL",
    "COOLDOWN",
    "MAX_TRIES",
    "Address",
    "confirm",
    "forget",
    "get",
    "remove",
    "start",
]

CODE_TTL = 900
MAX_TRIES = 5
COOLDOWN = 60
CODES_PER_HOUR = 5

_GET = """SELECT address, confirmed_at, CASE WHEN code_expires_at > now() THEN pending_address END AS pending
          FROM notification_addresses WHERE account_id = $1 AND channel = $2"""

# One statement decides and records a new code: no row yet, or the cooldown and the hourly
# cap allow it. Nothing returned: too soon.
_START = """
INSERT INTO notification_addresses AS a
    (account_id, channel, pending_address, code_digest, code_expires_at, codes_sent, codes_since, last_code_at)
VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), 1, now(), now())
ON CONFLICT (account_id, channel) DO UPDATE SET
    pending_address = EXCLUDED.pending_address,
    code_digest = EXCLUDED.code_digest,
    code_expires_at = EXCLUDED.code_expires_at,
    code_tries = 0,
    codes_sent = CASE WHEN a.codes_since <= now() - interval '1 hour' THEN 1 ELSE a.codes_sent + 1 END,
    codes_since = CASE WHEN a.codes_since <= now() - interval '1 hour' THEN now() ELSE a.codes_since END,
    last_code_at = now(),
    updated_at = now()
WHERE (a.last_code_at IS NULL OR a.last_code_at <= now() - make_interval(secs => $6))
  AND (a.codes_since <= now() - interval '1 hour' OR a.codes_sent < $7)
RETURNING 1
"""

_PENDING = """SELECT pending_address, code_digest, code_tries FROM notification_addresses
              WHERE account_id = $1 AND channel = $2 AND pending_address IS NOT NULL AND code_expires_at > now()
              FOR UPDATE"""
_CONFIRMED = """UPDATE notification_addresses
                SET address = pending_address, confirmed_at = now(), pending_address = NULL, code_digest = NULL,
                    code_expires_at = NULL, code_tries = 0, updated_at = now()
                WHERE account_id = $1 AND channel = $2"""
_WRONG = """UPDATE notification_addresses
            SET code_tries = code_tries + 1,
                pending_address = CASE WHEN code_tries + 1 >= $3 THEN NULL ELSE pending_address END,
                code_digest = CASE WHEN code_tries + 1 >= $3 THEN NULL ELSE code_digest END
            WHERE account_id = $1 AND channel = $2"""
# The row stays (with its code counters), so removing an address does not reset the cap.
_REMOVE = """UPDATE notification_addresses
             SET address = NULL, confirmed_at = NULL, pending_address = NULL, code_digest = NULL,
                 code_expires_at = NULL, updated_at = now()
             WHERE account_id = $1 AND channel = $2"""
_FORGET = """UPDATE notification_addresses a SET address = NULL, confirmed_at = NULL, updated_at = now()
             FROM unnest($1::uuid[], $2::text[]) AS g(account_id, address)
             WHERE a.account_id = g.account_id AND a.channel = $3 AND a.address = g.address"""


@dataclass(frozen=True, slots=True)
class Address:
    #: The confirmed address notices go to, if any.
    address: str | None
    confirmed_at: datetime | None
    #: An address waiting for its code (while the code is valid).
    pending: str | None


def _digest(account_id: uuid.UUID, channel: str, address: str, code: str) -> str:
    return hashlib.sha256(f"{account_id}:{channel}:{address}:{code}".encode()).hexdigest()


async def get(db: asyncpg.Pool | asyncpg.Connection, account_id: uuid.UUID, channel: str) -> Address:
    row = await db.fetchrow(_GET, account_id, channel)
    if row is None:
        return Address(None, None, None)
    return Address(row["address"], row["confirmed_at"], row["pending"])


async def start(db: asyncpg.Pool, account_id: uuid.UUID, channel: str, address: str) -> str | None:
    """A new code for confirming ``address`` (to be sent there), or None if asked too soon."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    digest = _digest(account_id, channel, address, code)
    started = await db.fetchval(_START, account_id, channel, address, digest, CODE_TTL, COOLDOWN, CODES_PER_HOUR)
    return code if started else None


async def confirm(db: asyncpg.Pool, account_id: uuid.UUID, channel: str, code: str) -> bool:
    """True if ``code`` confirms the pending address (which becomes the channel's address)."""
    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(_PENDING, account_id, channel)
        if row is None:
            return False
        expected = _digest(account_id, channel, row["pending_address"], code.strip())
        if hmac.compare_digest(expected, row["code_digest"]):
            await conn.execute(_CONFIRMED, account_id, channel)
            return True
        await conn.execute(_WRONG, account_id, channel, MAX_TRIES)
        return False


async def remove(db: asyncpg.Pool, account_id: uuid.UUID, channel: str) -> None:
    await db.execute(_REMOVE, account_id, channel)


async def forget(conn: asyncpg.Connection, channel: str, gone: Sequence[tuple[uuid.UUID, str]]) -> None:
    """Unconfirm addresses the service said do not exist (each only if still the same)."""
    await conn.execute(_FORGET, [a for a, _ in gone], [address for _, address in gone], channel)
