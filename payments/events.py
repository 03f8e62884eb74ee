"""The events payments publish to the outbox, in one place: topics, payloads, and how a
consumer reads them back.

Publishers build every payload here and consumers inside payments read theirs back here,
so a payload's shape changes in this module only. An event about a citizen is keyed by
their account id, so one citizen's events stay in order.

========================== ======================================== =========================
topic                      when                                     consumed by
========================== ======================================== =========================
payment.succeeded          a payment reached the citizen's wallet   notifications
payment.held               a released payment waits (why, until)    notifications
wallet.link_state          a link reached a state its owner sees    notifications, holds
wallet.payout_changed      the payout wallet changed (cooling-off)  notifications, holds
wallet.link_requested      (internal) inquire at the provider       the linking worker
wallet.link_otp_submitted  (internal) confirm the consent OTP       the linking worker
========================== ======================================== =========================

Held payments are also released on ``account.level_raised``, which accounts publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

__all__ = [
    "ACCOUNT_LEVEL_RAISED",
    "LINK_OTP_SUBMITTED",
    "LINK_REQUESTED",
    "PAYMENT_HELD",
    "PAYMENT_SUCCEEDED",
    "WALLET_LINK_STATE",
    "WALLET_PAYOUT_CHANGED",
    "KeyedPayload",
    "LinkCall",
    "account_of",
    "link_call",
    "payment_held",
    "payment_succeeded",
    "read_link_call",
    "wallet_link_state",
    "wallet_payout_changed",
]

PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_HELD = "payment.held"
WALLET_LINK_STATE = "wallet.link_state"
WALLET_PAYOUT_CHANGED = "wallet.payout_changed"
LINK_REQUESTED = "wallet.link_requested"
LINK_OTP_SUBMITTED = "wallet.link_otp_submitted"
#: Published by accounts; holds listen to it.
ACCOUNT_LEVEL_RAISED = "account.level_raised"

#: ``(key, payload)``, as ``wallet_api.outbox.publish_many`` takes events.
KeyedPayload = tuple[str, dict[str, Any]]


def payment_succeeded(account_id: UUID, payment_id: UUID, amount: int, programme_name: str) -> KeyedPayload:
    account = str(account_id)
    return account, {
        "account_id": account,
        "payment_id": str(payment_id),
        "amount": amount,
        "programme_name": programme_name,
    }


def payment_held(
    account_id: UUID, payment_id: UUID, amount: int, programme_name: str, reason: str, hold_until: datetime
) -> KeyedPayload:
    key, payload = payment_succeeded(account_id, payment_id, amount, programme_name)
    payload.update(reason=reason, hold_until=hold_until.isoformat())
    return key, payload


def wallet_link_state(link: Mapping[str, Any]) -> KeyedPayload:
    """For a ``wallet_links`` row: the state its owner now sees."""
    account = str(link["account_id"])
    return account, {
        "account_id": account,
        "link_id": str(link["id"]),
        "provider": link["provider"],
        "state": link["state"],
        "reason": link["refusal_reason"],
    }


def wallet_payout_changed(link: Mapping[str, Any]) -> KeyedPayload:
    """For a ``wallet_links`` row that became the payout wallet (paid once its hold ends)."""
    account = str(link["account_id"])
    hold: datetime | None = link["payout_hold_until"]
    return account, {
        "account_id": account,
        "link_id": str(link["id"]),
        "provider": link["provider"],
        "hold_until": hold.isoformat() if hold else None,
    }


@dataclass(frozen=True, slots=True)
class LinkCall:
    """What the linking worker must ask a provider about (``wallet.link_requested``,
    ``wallet.link_otp_submitted``)."""

    link_id: UUID
    provider: str


def link_call(link_id: UUID, provider: str) -> dict[str, Any]:
    return {"link_id": str(link_id), "provider": provider}


def read_link_call(payload: Mapping[str, Any]) -> LinkCall:
    return LinkCall(UUID(payload["link_id"]), payload["provider"])


def account_of(payload: Mapping[str, Any]) -> UUID | None:
    """The citizen an event is about, if it names one (every topic keyed by account)."""
    account = payload.get("account_id")
    return UUID(account) if account else None
