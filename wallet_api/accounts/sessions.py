"""Device sessions: access tokens plus opaque, rotating refresh tokens.

A session starts when a device signs a challenge (sign-in, registration or binding). It is a
*family* of refresh tokens: each refresh returns a new token and marks the old one used.
Presenting a used token again means two parties hold the same family (a stolen token), so
the whole family is revoked and both must sign in with the device again. Refresh tokens are
256 random bits and stored only as their SHA-256.

Refreshing never renews ``auth_time``: only a device signature makes a session fresh enough
for step-up actions.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import redis.asyncio as aioredis

from wallet_api.kernel import (
    Batcher,
    Batchers,
    Principal,
    TokenService,
    Unauthorized,
    WorkerContext,
    publish_session_end,
    record,
)

__all__ = [
    "NewSession",
    "SessionTokens",
    "insert_session",
    "purge_old_sessions",
    "refresh_session",
    "revoke_account_sessions",
    "revoke_device_sessions",
    "session_alive",
    "session_store",
    "start_session",
]

_PREFIX = "cwr_"


@dataclass(frozen=True, slots=True)
class SessionTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    account_id: str
    device_id: str
    level: int


def _new_refresh() -> tuple[str, bytes]:
    token = _PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return token, hashlib.sha256(token.encode()).digest()


def citizen_principal(account_id: str, level: int, device_id: str, auth_time: int) -> Principal:
    return Principal(kind="citizen", subject=account_id, level=level, device_id=device_id, auth_time=auth_time)


# One statement (one round trip) stores any number of new sessions: each one's family (with
# an id made here) and first token. It is committed without waiting for the WAL flush
# (synchronous_commit off for this transaction only): a crash in the following fraction of
# a second can lose the new sessions, and each phone then simply signs in again with its
# key. Nothing else is relaxed: refresh rotation and revocation stay synchronous.
_START = """
WITH relaxed AS (
    SELECT set_config('synchronous_commit', 'off', true)
), fam AS (
    INSERT INTO refresh_families (id, account_id, device_id, auth_time, expires_at)
    SELECT f, a, d, to_timestamp(t), now() + make_interval(days => ttl)
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::int[]) AS s(f, a, d, t, ttl)
    RETURNING id
), tok AS (
    INSERT INTO refresh_tokens (token_hash, family_id) SELECT * FROM unnest($6::bytea[], $1::uuid[])
), seen AS (
    -- At most one write a minute per device: "last seen" needs no finer grain. Rows are
    -- locked in id order, and one that another transaction is updating right now is
    -- skipped (that one writes it), so concurrent batches neither wait nor deadlock here.
    UPDATE devices SET last_seen_at = now()
    WHERE id IN (
        SELECT id FROM devices
        WHERE id = ANY($3) AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute')
        ORDER BY id FOR NO KEY UPDATE SKIP LOCKED
    )
)
SELECT count(*) FROM fam, relaxed
"""


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session to store: who, which device, when the device signed, for how many days."""

    account_id: uuid.UUID
    device_id: uuid.UUID
    auth_time: int
    refresh_ttl_days: int


async def _store_sessions(conn: asyncpg.Connection | asyncpg.Pool, sessions: list[NewSession]) -> list[str]:
    """Store the sessions in one statement; returns their refresh tokens, in order."""
    refreshes = [_new_refresh() for _ in sessions]
    await conn.execute(
        _START,
        [uuid.uuid4() for _ in sessions],
        [s.account_id for s in sessions],
        [s.device_id for s in sessions],
        [s.auth_time for s in sessions],
        [s.refresh_ttl_days for s in sessions],
        [digest for _, digest in refreshes],
    )
    return [token for token, _ in refreshes]


async def insert_session(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    account_id: uuid.UUID,
    device_id: uuid.UUID,
    auth_time: int,
    refresh_ttl_days: int,
) -> str:
    """Store a new refresh family with its first token (one statement); returns the refresh token."""
    (refresh,) = await _store_sessions(conn, [NewSession(account_id, device_id, auth_time, refresh_ttl_days)])
    return refresh


def session_store(batchers: Batchers, pool: asyncpg.Pool) -> Batcher[NewSession, str]:
    """The process's batched session store: what sign-ins ask at once goes in one statement.

    Retried one by one when a batch fails, so that one bad session fails alone: a failed
    statement left nothing behind, and each try makes new tokens.
    """
    return batchers.get("sessions", lambda: Batcher(functools.partial(_store_sessions, pool), retry_singly=True))


async def start_session(
    conn: asyncpg.Connection | asyncpg.Pool,
    tokens: TokenService,
    *,
    account_id: str,
    device_id: str,
    level: int,
    auth_time: int,
    refresh_ttl_days: int,
) -> SessionTokens:
    refresh = await insert_session(
        conn,
        account_id=uuid.UUID(account_id),
        device_id=uuid.UUID(device_id),
        auth_time=auth_time,
        refresh_ttl_days=refresh_ttl_days,
    )
    access, expires_in = await tokens.issue(citizen_principal(account_id, level, device_id, auth_time))
    return SessionTokens(access, expires_in, refresh, account_id, device_id, level)


# Rotation in one statement (one round trip, atomic): mark the presented token used and
# store its successor, only while the token is unused and its family, account and device
# are all still valid. A concurrent rotation of the same token waits on the row lock and
# then finds it used, which is reuse.
_ROTATE = """
WITH used AS (
    UPDATE refresh_tokens t SET used_at = now()
    FROM refresh_families f, accounts a, devices d
    WHERE t.token_hash = $1 AND t.used_at IS NULL AND f.id = t.family_id
      AND f.revoked_at IS NULL AND f.expires_at > now()
      AND a.id = f.account_id AND a.state = 'active' AND d.id = f.device_id AND d.revoked_at IS NULL
    RETURNING f.id AS family_id, f.account_id, f.device_id,
              extract(epoch FROM f.auth_time)::bigint AS auth_time, a.level
), successor AS (
    INSERT INTO refresh_tokens (token_hash, family_id) SELECT $2, family_id FROM used
)
SELECT account_id, device_id, auth_time, level FROM used
"""


async def refresh_session(
    pool: asyncpg.Pool, redis: aioredis.Redis, tokens: TokenService, refresh_token: str
) -> SessionTokens:
    """Rotate ``refresh_token``; reuse of a used token revokes its family."""
    if not refresh_token.startswith(_PREFIX) or len(refresh_token) > 100:
        raise _invalid()
    digest = hashlib.sha256(refresh_token.encode()).digest()
    new, new_digest = _new_refresh()
    row = await pool.fetchrow(_ROTATE, digest, new_digest)
    if row is None:
        async with pool.acquire() as conn, conn.transaction():
            reused = await conn.fetchrow(
                """SELECT f.id, f.account_id, f.device_id, f.revoked_at FROM refresh_tokens t
                   JOIN refresh_families f ON f.id = t.family_id
                   WHERE t.token_hash = $1 AND t.used_at IS NOT NULL
                   FOR UPDATE OF f""",
                digest,
            )
            if reused is not None and reused["revoked_at"] is None:
                await conn.execute(
                    "UPDATE refresh_families SET revoked_at = now(), revoked_why = 'reuse' WHERE id = $1",
                    reused["id"],
                )
                await record(
                    conn,
                    actor=f"citizen:{reused['account_id']}",
                    action="session.refresh_reuse",
                    subject=f"account:{reused['account_id']}",
                    details={"family_id": str(reused["id"])},
                )
        # Committed above: the revocation stands even though this request fails.
        if reused is not None and reused["revoked_at"] is None:
            await publish_session_end(redis, reused["account_id"], str(reused["device_id"]))
        raise _invalid()
    account_id, device_id = str(row["account_id"]), str(row["device_id"])
    access, expires_in = await tokens.issue(citizen_principal(account_id, row["level"], device_id, row["auth_time"]))
    return SessionTokens(access, expires_in, new, account_id, device_id, row["level"])


def _invalid() -> Unauthorized:
    return Unauthorized(
        "The refresh token is not valid; sign in with your device again.",
        slug="invalid-refresh-token",
        title="Invalid refresh token",
    )


async def revoke_device_sessions(conn: asyncpg.Connection, device_id: uuid.UUID, why: str) -> None:
    await conn.execute(
        "UPDATE refresh_families SET revoked_at = now(), revoked_why = $2 WHERE device_id = $1 AND revoked_at IS NULL",
        device_id,
        why,
    )


async def revoke_account_sessions(conn: asyncpg.Connection, account_id: uuid.UUID, why: str) -> None:
    await conn.execute(
        "UPDATE refresh_families SET revoked_at = now(), revoked_why = $2 WHERE account_id = $1 AND revoked_at IS NULL",
        account_id,
        why,
    )


# A token's session lives while its device is bound, its account active, the device has a
# live refresh family, and none of the device's families was revoked after the token was
# issued (sign-out, sign-out-everywhere, revocation, reuse all revoke families).
_ALIVE = """
SELECT EXISTS (
    SELECT 1 FROM devices d JOIN accounts a ON a.id = d.account_id
    WHERE d.id = $1 AND a.id = $2 AND d.revoked_at IS NULL AND a.state = 'active'
      AND EXISTS (SELECT 1 FROM refresh_families f
                  WHERE f.device_id = d.id AND f.revoked_at IS NULL AND f.expires_at > now())
      AND NOT EXISTS (SELECT 1 FROM refresh_families f
                      WHERE f.device_id = d.id AND f.revoked_at >= to_timestamp($3))
)
"""


async def session_alive(pool: asyncpg.Pool, principal: Principal) -> bool:
    """Whether the citizen session behind ``principal``'s access token still lives (PostgreSQL's word)."""
    try:
        device, account = uuid.UUID(principal.device_id or ""), uuid.UUID(principal.subject)
    except ValueError:
        return False  # a citizen token without a device belongs to no session
    return bool(await pool.fetchval(_ALIVE, device, account, principal.issued_at))


def cooling_off_until(seconds: int) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


_PURGE = """
WITH doomed AS (
    SELECT id FROM refresh_families
    WHERE expires_at < now() - interval '7 days' OR revoked_at < now() - interval '7 days'
    LIMIT $1 FOR UPDATE SKIP LOCKED
), tokens AS (
    DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM doomed)
)
DELETE FROM refresh_families WHERE id IN (SELECT id FROM doomed)
"""

_PURGE_BATCH = 5000


async def purge_old_sessions(ctx: WorkerContext) -> int:
    """Delete refresh families (and their tokens) expired or revoked more than a week ago.

    A week of revoked families is kept so that a replayed token is still recognised as
    reuse (and audited) for a while after its family died.
    """
    status = await ctx.pool.execute(_PURGE, _PURGE_BATCH)
    return int(status.split()[-1])
