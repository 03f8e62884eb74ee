"""From an outbox event to a notice: who receives it, what it refers to, what the texts need.

Each topic names the payload keys it keeps (``params``) and what the app opens when the
citizen taps it (``ref``). Only those keys are stored; anything else a publisher adds to
its payload stays out of the inbox.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from notifications.templates import category_of

__all__ = ["TOPICS", "BadEvent", "Notice", "notice_from_event"]


class BadEvent(ValueError):
    """The payload lacks what the notice needs; retrying will not help."""


@dataclass(frozen=True, slots=True)
class _Topic:
    #: Payload keys kept as template parameters.
    params: tuple[str, ...]
    #: (reference type, payload key of its id): what the app fetches when opened.
    ref: tuple[str, str] | None
    #: Payload keys that make two events the same notice (beyond the event itself).
    natural_key: tuple[str, ...] = ()


_DOC = ("doc_type", "document_id")

_TOPICS: dict[str, _Topic] = {
    "payment.succeeded": _Topic(("amount", "programme_name", "payment_id"), ("payment", "payment_id"), ("payment_id",)),
    "payment.held": _Topic(
        ("amount", "programme_name", "payment_id", "reason", "hold_until"), ("payment", "payment_id")
    ),
    "document.issued": _Topic(_DOC, ("document", "document_id")),
    "document.updated": _Topic(_DOC, ("document", "document_id")),
    "document.suspended": _Topic(_DOC, ("document", "document_id")),
    "document.reinstated": _Topic(_DOC, ("document", "document_id")),
    "document.revoked": _Topic(_DOC, ("document", "document_id"), ("document_id",)),
    # A reminder scheduler may run daily; one reminder per document and expiry date.
    "document.expiring": _Topic((*_DOC, "expires_on"), ("document", "document_id"), ("document_id", "expires_on")),
    "document.viewed": _Topic((*_DOC, "verifier_org_id", "verifier_name", "fields"), ("document", "document_id")),
    # An agency offered the holder's documents to another wallet (openid4vci/): the app opens
    # the offer to show its transaction code, which is never in the notice.
    "credential_offer.made": _Topic(("doc_type",), ("credential_offer", "offer_id"), ("offer_id",)),
    # The device name is chosen by whoever bound the device (an attacker, if this notice matters):
    # it is never kept, so no notice can carry their words.
    "account.device_bound": _Topic(("device_id",), ("device", "device_id"), ("device_id",)),
    "account.level_raised": _Topic(("level",), None, ("level",)),
    # Told to each other current guardian when a parent links to a child's account. Nothing
    # of either person is kept: the app finds the child by the reference (GET /v1/me/children).
    "account.guardian_linked": _Topic(
        (), ("child_account", "child_account_id"), ("child_account_id", "guardian_account_id")
    ),
    "wallet.payout_changed": _Topic(("link_id", "provider", "hold_until"), ("wallet_link", "link_id")),
    "wallet.link_state": _Topic(("link_id", "provider", "state", "reason"), ("wallet_link", "link_id")),
}

#: Every outbox topic the notifications consumer subscribes to.
TOPICS: tuple[str, ...] = tuple(_TOPICS)


@dataclass(frozen=True, slots=True)
class Notice:
    account_id: uuid.UUID
    kind: str
    category: str
    params: dict[str, Any]
    ref_type: str | None
    ref_id: str | None
    dedupe_key: str
    #: A device that must not get the push (the new device itself, for "new device signed in").
    skip_device_id: uuid.UUID | None = None
    #: On a guardian's copy: the child's account the notice is about (None: the owner's own).
    about_account_id: uuid.UUID | None = None


def notice_from_event(event_id: int, topic: str, payload: dict[str, Any]) -> Notice | None:
    """The notice for an event, or None when it concerns nobody with an account (a document
    issued to a person who has not registered in the app yet)."""
    spec = _TOPICS.get(topic)
    if spec is None:
        raise BadEvent(f"unknown topic {topic}")
    if "account_id" in payload and payload["account_id"] is None:
        return None
    try:
        account_id = uuid.UUID(str(payload["account_id"]))
    except (KeyError, ValueError) as exc:
        raise BadEvent("account_id missing or not a UUID") from exc
    params = {k: payload[k] for k in spec.params if k in payload and payload[k] is not None}
    ref_type = ref_id = None
    if spec.ref is not None:
        ref_type, key = spec.ref
        if payload.get(key) is None:
            raise BadEvent(f"{key} missing")
        ref_id = str(payload[key])
    if spec.natural_key and all(payload.get(k) is not None for k in spec.natural_key):
        dedupe = topic + ":" + ":".join(str(payload[k]) for k in spec.natural_key)
    else:
        dedupe = f"event:{event_id}"
    skip = None
    if topic == "account.device_bound":
        try:
            skip = uuid.UUID(str(payload["device_id"]))
        except (KeyError, ValueError) as exc:
            raise BadEvent("device_id missing or not a UUID") from exc
    return Notice(account_id, topic, category_of(topic), params, ref_type, ref_id, dedupe, skip)
