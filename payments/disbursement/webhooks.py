"""Signed payout callbacks from e-wallet providers, applied at most once each.

Each provider posts to its own endpoint, ``POST /v1/providers/{code}/payout-events``, a
JSON body ``{"event_id", "payment_id", "state": "succeeded"|"failed", "provider_ref",
"reason"}`` signed with the secret we share with it::

    Wallet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

A signature older than five minutes is refused (replay). ``provider_events`` remembers
every event id, so a callback delivered twice is acknowledged and ignored; and since a
payment moves only from 'sending' or 'unknown', a callback that races the bulk response
or a status query changes nothing the second time either.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

from payments.disbursement import machine
from wallet_api.problems import NotFound, Problem, Unauthorized

__all__ = ["PayoutEvent", "apply_event", "parse_secrets", "sign", "verify_signature"]

_TOLERANCE_SECONDS = 300


class PayoutEvent(msgspec.Struct):
    event_id: str
    payment_id: str
    state: Literal["succeeded", "failed"]
    provider_ref: str | None = None
    reason: str | None = None


def parse_secrets(raw: str) -> dict[str, str]:
    """``WALLET_PROVIDER_WEBHOOK_SECRETS``: ``code=secret,code=secret``."""
    out: dict[str, str] = {}
    for part in raw.split(","):
        code, sep, secret = part.strip().partition("=")
        if sep and code and secret:
            out[code.strip()] = secret.strip()
    return out


def sign(secret: str, body: bytes, at: int | None = None) -> str:
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(secrets: dict[str, str], provider: str, header: str | None, body: bytes) -> None:
    secret = secrets.get(provider)
    if secret is None:
        raise NotFound("No such provider.")
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    try:
        t = int(parts.get("t", ""))
    except ValueError:
        raise Unauthorized("Missing or malformed Wallet-Signature.", slug="webhook-signature") from None
    if abs(time.time() - t) > _TOLERANCE_SECONDS:
        raise Unauthorized("The signature is too old.", slug="webhook-signature")
    expected = sign(secret, body, t).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise Unauthorized("The signature does not match.", slug="webhook-signature")


async def apply_event(conn: asyncpg.Connection, provider: str, event: PayoutEvent) -> str:
    """Apply one callback in the caller's transaction; returns applied, duplicate or ignored."""
    try:
        payment_id = UUID(event.payment_id)
    except ValueError:
        raise Problem("payment_id is not one of ours.", slug="webhook-payment-unknown", status=422) from None
    inserted = await conn.fetchval(
        """INSERT INTO provider_events (provider, event_id, payment_id) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING true""",
        provider,
        event.event_id,
        payment_id,
    )
    if not inserted:
        return "duplicate"
    owner = await conn.fetchval("SELECT provider FROM payments WHERE id = $1", payment_id)
    if owner != provider:
        # Not ours, or another provider's: the reconciliation's unknown-to-us line is the alarm.
        return "ignored"
    await machine.act_as(conn, f"provider:{provider}", "callback")
    if event.state == "succeeded":
        moved = await machine.mark_succeeded(conn, [payment_id], [event.provider_ref])
    else:
        moved = await machine.mark_failed(conn, [payment_id], [event.reason or "failed"])
    return "applied" if moved else "ignored"
