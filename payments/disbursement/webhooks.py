"""Signed payout callbacks from e-wallet providers, applied at most once each.

Each provider posts to its own endpoint, ``POST /v1/providers/{code}/payout-events``, a
JSON body ``{"event_id", "payment_id", "state": "succeeded"|"failed", "provider_ref",
"reason"}`` signed with the webhook secret of its configuration (``payments.providers.signing``)::

    Wallet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

A signature more than five minutes off is refused (replay). ``provider_events`` remembers
every event id, so a callback delivered twice is acknowledged and ignored; and since a
payment moves only from 'sending' or 'unknown', a callback that races the bulk response
or a status query changes nothing the second time either.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec

from payments.disbursement import machine
from payments.providers.registry import UnknownProvider, registry_of
from payments.providers.signing import WebhookSignatureError, verify_webhook
from wallet_api.problems import NotFound, Problem, Unauthorized

__all__ = ["PayoutEvent", "apply_event", "verify"]


class PayoutEvent(msgspec.Struct):
    event_id: str
    payment_id: str
    state: Literal["succeeded", "failed"]
    provider_ref: str | None = None
    reason: str | None = None


def verify(owner: Any, provider: str, header: str | None, body: bytes) -> None:
    """Refuse a callback not signed with the provider's webhook secret, or too old."""
    try:
        secret = registry_of(owner).config(provider).webhook_secret
    except UnknownProvider:
        raise NotFound("No such provider.") from None
    try:
        verify_webhook(secret, body, header)
    except WebhookSignatureError as exc:
        raise Unauthorized(f"The callback signature is not valid: {exc}.", slug="webhook-signature") from None


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
