"""Signed payout callbacks from e-wallet providers, applied at most once each.

Each provider posts to its own endpoint, ``POST /v1/providers/{code}/payout-events``, a
JSON body ``{"event_id", "payment_id", "state": "succeeded"|"failed", "provider_ref",
"reason"}`` — or several such events at once, ``{"events": [...]}``, applied set-wise in one
transaction — signed with the webhook secret of its configuration (``payments.providers.signing``)::

    Wallet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

A signature more than five minutes off is refused (replay). ``provider_events`` remembers
every event id, so a callback delivered twice is acknowledged and ignored; and since a
payment moves only from 'sending' or 'unknown', a callback that races the bulk response
or a status query changes nothing the second time either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

from payments.disbursement import machine
from payments.providers.registry import PROVIDERS, UnknownProvider
from payments.providers.signing import WebhookSignatureError, verify_webhook
from wallet_api.kernel import NotFound, Problem, Services, Unauthorized, ValidationFailed

__all__ = ["IncomingEvents", "PayoutEvent", "apply_event", "apply_events", "verify"]


class PayoutEvent(msgspec.Struct):
    event_id: str
    payment_id: str
    state: Literal["succeeded", "failed"]
    provider_ref: str | None = None
    reason: str | None = None


class IncomingEvents(msgspec.Struct):
    """A callback body as sent: one event, or ``{"events": [...]}``."""

    events: list[PayoutEvent] | None = None
    event_id: str | None = None
    payment_id: str | None = None
    state: Literal["succeeded", "failed"] | None = None
    provider_ref: str | None = None
    reason: str | None = None

    def single(self) -> PayoutEvent:
        if self.event_id is None or self.payment_id is None or self.state is None:
            raise ValidationFailed("A payout event needs event_id, payment_id and state.")
        return PayoutEvent(self.event_id, self.payment_id, self.state, self.provider_ref, self.reason)


def verify(services: Services, provider: str, header: str | None, body: bytes) -> None:
    """Refuse a callback not signed with the provider's webhook secret, or too old."""
    try:
        secret = services.get(PROVIDERS).config(provider).webhook_secret
    except UnknownProvider:
        raise NotFound("No such provider.") from None
    try:
        verify_webhook(secret, body, header)
    except WebhookSignatureError as exc:
        raise Unauthorized(f"The callback signature is not valid: {exc}.", slug="webhook-signature") from None


_RECORD_EVENTS = """
WITH new AS (
    INSERT INTO provider_events (provider, event_id, payment_id)
    SELECT $1, e.event_id, e.payment_id FROM unnest($2::text[], $3::uuid[]) AS e(event_id, payment_id)
    ON CONFLICT DO NOTHING
    RETURNING event_id, payment_id
)
SELECT new.event_id, (p.id IS NOT NULL) AS ours
FROM new LEFT JOIN payments p ON p.id = new.payment_id AND p.provider = $1
"""


async def apply_events(conn: asyncpg.Connection, provider: str, events: Sequence[PayoutEvent]) -> list[str]:
    """Apply callbacks set-wise in the caller's transaction: applied, duplicate or ignored, per event.

    Each event id is recorded once (``provider_events``); an event seen before, or earlier
    in the same request, is a duplicate; one about a payment that is not this provider's,
    or that has already moved on (the bulk response or a status query settled it first),
    changes nothing.
    """
    results = ["ignored"] * len(events)
    fresh: dict[str, tuple[int, UUID, PayoutEvent]] = {}
    for i, event in enumerate(events):
        if event.event_id in fresh:
            results[i] = "duplicate"
            continue
        try:
            fresh[event.event_id] = (i, UUID(event.payment_id), event)
        except ValueError:
            continue  # not one of our payment ids: ignored
    if not fresh:
        return results
    rows = await conn.fetch(_RECORD_EVENTS, provider, list(fresh), [f[1] for f in fresh.values()])
    ours = {r["event_id"]: r["ours"] for r in rows}
    ok: dict[UUID, str | None] = {}
    failed: dict[UUID, str] = {}
    for event_id, (i, payment_id, event) in fresh.items():
        if event_id not in ours:
            results[i] = "duplicate"
        elif not ours[event_id]:
            pass  # not ours, or another provider's: the reconciliation's unknown-to-us line is the alarm
        elif event.state == "succeeded":
            ok.setdefault(payment_id, event.provider_ref)
        else:
            failed.setdefault(payment_id, event.reason or "failed")
    if ok or failed:
        await machine.act_as(conn, f"provider:{provider}", "callback", durable=False)
        moved = set(await machine.mark_succeeded_ids(conn, list(ok), list(ok.values())))
        moved.update(await machine.mark_failed_ids(conn, list(failed), list(failed.values())))
        for i, payment_id, _ in fresh.values():
            if payment_id in moved and results[i] == "ignored":
                results[i] = "applied"
                moved.discard(payment_id)
    return results


async def apply_event(conn: asyncpg.Connection, provider: str, event: PayoutEvent) -> str:
    """Apply one callback in the caller's transaction; returns applied, duplicate or ignored."""
    try:
        UUID(event.payment_id)
    except ValueError:
        raise Problem("payment_id is not one of ours.", slug="webhook-payment-unknown", status=422) from None
    return (await apply_events(conn, provider, [event]))[0]
