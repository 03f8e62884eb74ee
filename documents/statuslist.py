"""Token Status Lists (IETF draft-ietf-oauth-status-list): revocation without tracking.

Each issuer's credentials point into its own lists of 2-bit entries: 0 valid, 1 invalid
(revoked), 2 suspended. A position is drawn at random among the free ones and a list is
closed at half capacity, so the position of a credential says nothing about when it was
issued or to whom, and a verifier fetching a whole list learns nothing about which
credential it is checking. The signed list (``application/statuslist+jwt``) is cached in
its row per version and re-signed only after a change or near its expiry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from documents.issuer_keys import issuer_signing_key
from wallet_api.kernel import DatabaseKeyProvider, b64url_decode, b64url_encode, sign_compact

__all__ = [
    "INVALID",
    "LIST_SIZE",
    "STATUS_LIST_MEDIA_TYPE",
    "SUSPENDED",
    "VALID",
    "SignedList",
    "allocate_index",
    "claim_positions",
    "decode_list",
    "draw_positions",
    "encode_list",
    "set_document_status",
    "signed_list",
    "status_at",
    "status_list_uri",
]

VALID, INVALID, SUSPENDED = 0, 1, 2
BITS = 2
#: 2^17 entries: 32 KiB uncompressed, a few hundred bytes compressed while mostly valid.
LIST_SIZE = 131_072
STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
_TOKEN_LIFETIME = dt.timedelta(hours=24)
#: Re-sign a cached token when less than this remains before its ``exp``.
_RESIGN_MARGIN = dt.timedelta(hours=12)


def status_list_uri(base_url: str, list_id: UUID | str) -> str:
    return f"{base_url.rstrip('/')}/status-lists/{list_id}"


def encode_list(size: int, entries: Iterable[tuple[int, int]], bits: int = BITS) -> bytes:
    """Pack ``(index, status)`` pairs (index 0 in the low bits of byte 0) and compress (zlib)."""
    per_byte = 8 // bits
    raw = bytearray((size + per_byte - 1) // per_byte)
    for idx, status in entries:
        raw[idx // per_byte] |= (status & ((1 << bits) - 1)) << ((idx % per_byte) * bits)
    return zlib.compress(bytes(raw), 9)


def decode_list(lst: str) -> bytes:
    return zlib.decompress(b64url_decode(lst))


def status_at(raw: bytes, idx: int, bits: int = BITS) -> int:
    per_byte = 8 // bits
    if idx < 0 or idx // per_byte >= len(raw):
        raise IndexError("status index outside the list")
    return (raw[idx // per_byte] >> ((idx % per_byte) * bits)) & ((1 << bits) - 1)


async def _open_list(conn: asyncpg.Connection | asyncpg.Pool, org_id: str, *, lock: bool) -> asyncpg.Record:
    """The issuer's open list (id, size), opened if it has none."""
    row = await conn.fetchrow(
        """SELECT id, size FROM status_lists
           WHERE issuer_org_id = $1 AND allocated * 2 < size
           ORDER BY created_at LIMIT 1"""
        + (" FOR UPDATE" if lock else ""),
        org_id,
    )
    if row is None:
        row = await conn.fetchrow(
            "INSERT INTO status_lists (issuer_org_id, size, bits) VALUES ($1, $2, $3) RETURNING id, size",
            org_id,
            LIST_SIZE,
            BITS,
        )
    return row


async def allocate_index(conn: asyncpg.Connection, org_id: str) -> tuple[UUID, int]:
    """A random free position in the issuer's open list (opening a new list when needed).

    Runs inside the caller's transaction; the row lock on the list serialises allocations,
    and the caller inserts the credential before committing.
    """
    row = await _open_list(conn, org_id, lock=True)
    list_id: UUID = row["id"]
    while True:
        idx = secrets.randbelow(row["size"])
        taken = await conn.fetchval(
            "SELECT 1 FROM credentials WHERE status_list_id = $1 AND status_idx = $2", list_id, idx
        )
        if taken is None:
            break
    await conn.execute("UPDATE status_lists SET allocated = allocated + 1 WHERE id = $1", list_id)
    return list_id, idx


async def draw_positions(pool: asyncpg.Pool, org_id: str, count: int) -> tuple[UUID, list[int]]:
    """``count`` distinct random positions in the issuer's open list, free when drawn.

    For a batch minted before its transaction (the positions are signed into the
    credentials): the caller mints with them, then :func:`claim_positions` in the
    transaction that stores the credentials, and draws again in the rare case a concurrent
    batch took one meanwhile. No lock is held while credentials are signed. Positions are drawn
    independently, so those of one batch are as unrelated as any two.
    """
    row = await _open_list(pool, org_id, lock=False)
    free: set[int] = set()
    while len(free) < count:
        drawn = {secrets.randbelow(row["size"]) for _ in range(count - len(free))} - free
        taken = await pool.fetch(
            "SELECT status_idx FROM credentials WHERE status_list_id = $1 AND status_idx = ANY($2::int[])",
            row["id"],
            list(drawn),
        )
        free |= drawn - {r["status_idx"] for r in taken}
    return row["id"], list(free)


async def claim_positions(conn: asyncpg.Connection, list_id: UUID, positions: list[int]) -> bool:
    """Claim drawn positions in the caller's transaction (under the list's row lock, held only
    for this and the caller's insert); False if one was taken since it was drawn."""
    await conn.execute("SELECT 1 FROM status_lists WHERE id = $1 FOR UPDATE", list_id)
    taken = await conn.fetchval(
        "SELECT count(*) FROM credentials WHERE status_list_id = $1 AND status_idx = ANY($2::int[])", list_id, positions
    )
    if taken:
        return False
    await conn.execute("UPDATE status_lists SET allocated = allocated + $2 WHERE id = $1", list_id, len(positions))
    return True


async def set_document_status(
    conn: asyncpg.Connection, document_id: UUID, status: int, *, below_version: int | None = None
) -> int:
    """Set the status of a document's credentials (revocation is final) and bump their lists.

    ``below_version`` limits the change to credentials minted from older versions (an update).
    """
    rows = await conn.fetch(
        """WITH changed AS (
               UPDATE credentials SET status = $2
               WHERE document_id = $1 AND status <> 1 AND status <> $2
                 AND ($3::int IS NULL OR version < $3)
               RETURNING status_list_id)
           UPDATE status_lists SET version = version + 1
           WHERE id IN (SELECT status_list_id FROM changed)
           RETURNING id""",
        document_id,
        status,
        below_version,
    )
    return len(rows)


@dataclass(frozen=True, slots=True)
class SignedList:
    token: str
    etag: str
    expires_at: dt.datetime


async def signed_list(
    pool: asyncpg.Pool, provider: DatabaseKeyProvider, list_id: UUID, *, base_url: str, ttl_seconds: int
) -> SignedList | None:
    """The list's current signed token, signing a new one if it changed or is near expiry."""
    row = await pool.fetchrow("SELECT * FROM status_lists WHERE id = $1", list_id)
    if row is None:
        return None
    now = dt.datetime.now(dt.UTC)
    if (
        row["token"] is not None
        and row["token_version"] == row["version"]
        and row["token_expires_at"] - now > _RESIGN_MARGIN
    ):
        return SignedList(row["token"], _etag(row["token"]), row["token_expires_at"])
    entries = await pool.fetch(
        "SELECT status_idx, status FROM credentials WHERE status_list_id = $1 AND status <> 0", list_id
    )
    lst = encode_list(row["size"], ((e["status_idx"], e["status"]) for e in entries), row["bits"])
    key = await issuer_signing_key(pool, provider, row["issuer_org_id"])
    iat = int(time.time())
    expires_at = dt.datetime.fromtimestamp(iat, dt.UTC) + _TOKEN_LIFETIME
    payload: dict[str, Any] = {
        "sub": status_list_uri(base_url, list_id),
        "iat": iat,
        "exp": int(expires_at.timestamp()),
        "ttl": ttl_seconds,
        "status_list": {"bits": row["bits"], "lst": b64url_encode(lst)},
    }
    token = sign_compact(key, payload, typ="statuslist+jwt")
    # Store only if nothing changed meanwhile; a concurrent change re-signs on the next read.
    await pool.execute(
        """UPDATE status_lists SET token = $2, token_version = $3, token_expires_at = $4
           WHERE id = $1 AND version = $3""",
        list_id,
        token,
        row["version"],
        expires_at,
    )
    return SignedList(token, _etag(token), expires_at)


def _etag(token: str) -> str:
    return '"' + hashlib.sha256(token.encode()).hexdigest()[:32] + '"'


def parse_status_claim(payload: Mapping[str, Any]) -> tuple[str, int] | None:
    """(uri, idx) of a credential's ``status.status_list`` claim, if well formed."""
    status = payload.get("status")
    if not isinstance(status, dict):
        return None
    ref = status.get("status_list")
    if not isinstance(ref, dict):
        return None
    uri, idx = ref.get("uri"), ref.get("idx")
    if not isinstance(uri, str) or not isinstance(idx, int) or isinstance(idx, bool) or idx < 0:
        return None
    return uri, idx
