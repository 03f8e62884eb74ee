"""Appending to and verifying the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from wallet_api.observability.context import current_request_id

__all__ = ["AuditBreak", "record", "verify_chain"]

_GENESIS = b"\x00" * 32


def _row_hash(
    prev_hash: bytes,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    details: dict[str, Any],
    request_id: str | None,
) -> bytes:
    canonical = json.dumps(
        [seq, at.astimezone(UTC).isoformat(), actor, action, subject, details, request_id],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(prev_hash + canonical.encode()).digest()


async def record(
    conn: asyncpg.Connection,
    *,
    actor: str,
    action: str,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one event in the caller's transaction; returns its sequence number.

    ``details`` must hold ids and codes, never personal data. Appends are serialised on
    the head row, which is fine for security events (they are rare next to payments).
    """
    details = details or {}
    head = await conn.fetchrow("SELECT seq, hash FROM audit_head WHERE singleton FOR UPDATE")
    seq = head["seq"] + 1
    at = datetime.now(UTC)
    request_id = current_request_id()
    digest = _row_hash(bytes(head["hash"]), seq, at, actor, action, subject, details, request_id)
    await conn.execute(
        """INSERT INTO audit_log (seq, at, actor, action, subject, details, request_id, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        seq,
        at,
        actor,
        action,
        subject,
        details,
        request_id,
        bytes(head["hash"]),
        digest,
    )
    await conn.execute("UPDATE audit_head SET seq = $1, hash = $2 WHERE singleton", seq, digest)
    return int(seq)


@dataclass(frozen=True)
class AuditBreak:
    seq: int
    reason: str


async def verify_chain(conn: asyncpg.Connection, *, batch: int = 10_000) -> tuple[int, AuditBreak | None]:
    """Recompute the chain; returns (rows checked, first break or None)."""
    expected_prev = _GENESIS
    expected_seq = 1
    checked = 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = await conn.fetchrow("SELECT seq, hash FROM audit_head WHERE singleton")
        cursor = conn.cursor(
            "SELECT seq, at, actor, action, subject, details, request_id, prev_hash, hash FROM audit_log ORDER BY seq",
            prefetch=batch,
        )
        async for row in cursor:
            if row["seq"] != expected_seq:
                return checked, AuditBreak(expected_seq, f"row {expected_seq} is missing (next is {row['seq']})")
            if bytes(row["prev_hash"]) != expected_prev:
                return checked, AuditBreak(row["seq"], "previous-hash link does not match the row before")
            digest = _row_hash(
                expected_prev, row["seq"], row["at"], row["actor"], row["action"], row["subject"],
                row["details"], row["request_id"],
            )  # fmt: skip
            if digest != bytes(row["hash"]):
                return checked, AuditBreak(row["seq"], "row content does not match its hash (edited)")
            expected_prev = digest
            expected_seq += 1
            checked += 1
        if head["seq"] != checked or bytes(head["hash"]) != expected_prev:
            return checked, AuditBreak(
                checked + 1, f"chain ends at {checked} but head says {head['seq']} (rows deleted)"
            )
    return checked, None
