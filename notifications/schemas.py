"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

__all__ = [
    "BIGINT_MAX",
    "AboutView",
    "ActionView",
    "AddressBody",
    "AddressCode",
    "AddressCodeSent",
    "AddressView",
    "CategoryPreferenceView",
    "InboxPage",
    "MarkAllRead",
    "MarkedRead",
    "NotificationView",
    "PreferencesUpdate",
    "PreferencesView",
    "PushTokenBody",
    "RefView",
    "UnreadCount",
]

#: Inbox ids and sequence numbers are PostgreSQL bigints: larger values are refused as input.
BIGINT_MAX = 2**63 - 1
Seq = Annotated[int, msgspec.Meta(ge=0, le=BIGINT_MAX)]


class ActionView(msgspec.Struct, frozen=True):
    #: What the app should open: link_wallet, raise_level, review_devices, renew_document, ...
    code: str
    label: str


class RefView(msgspec.Struct, frozen=True):
    #: payment, document, device or wallet_link: the app fetches it by id from its own API;
    #: child_account: a child's account the app lists in GET /v1/me/children.
    type: str
    id: str


class AboutView(msgspec.Struct, frozen=True):
    """The child's account a guardian's copy of a notice is about."""

    account_id: str
    #: The child's registered name, when the registry has one.
    name: str | None


class NotificationView(msgspec.Struct, frozen=True):
    id: int
    #: Position in this inbox, in the order entries were committed: the cursor to resume from
    #: (SSE ``Last-Event-ID``, WebSocket ``since``, ``read-all`` ``up_to``).
    seq: int
    kind: str
    category: str
    title: str
    body: str
    action: ActionView | None
    ref: RefView | None
    created_at: datetime
    read: bool
    #: Set on a copy of a notice about a child's account that the caller manages as guardian.
    about: AboutView | None = None


class InboxPage(msgspec.Struct, frozen=True):
    items: list[NotificationView]
    #: Pass as ``cursor`` to get the next (older) page; null on the last page.
    next_cursor: str | None
    unread: int


class UnreadCount(msgspec.Struct, frozen=True):
    unread: int


class MarkAllRead(msgspec.Struct, frozen=True):
    #: Mark read only entries up to this ``seq`` (the newest the app has shown); all when absent.
    up_to: Seq | None = None


class MarkedRead(msgspec.Struct, frozen=True):
    marked: int
    unread: int


class CategoryPreferenceView(msgspec.Struct, frozen=True):
    category: str
    name: str
    mandatory: bool
    #: The first two channels, as before ``channels`` existed (both also in ``channels``).
    push: bool
    sms: bool


class PreferencesView(msgspec.Struct, frozen=True):
    language: Literal["vi", "en"]
    categories: list[CategoryPreferenceView]
    #: Per category, every channel preference there is (``push``, ``sms``, ``email``, ...).
    channels: dict[str, dict[str, bool]] = msgspec.field(default_factory=dict)


class PreferencesUpdate(msgspec.Struct, frozen=True):
    language: Literal["vi", "en"] | None = None
    #: Per category, the channel preferences to change; those not named stay as they are.
    categories: dict[str, dict[str, bool]] = msgspec.field(default_factory=dict)


class PushTokenBody(msgspec.Struct, frozen=True):
    platform: Literal["fcm", "apns"]
    #: The FCM registration token or APNs device token the app got from the platform.
    token: Annotated[str, msgspec.Meta(min_length=8, max_length=4096, pattern=r"^[A-Za-z0-9_:\-\.]+$")]


class AddressBody(msgspec.Struct, frozen=True):
    #: The address to confirm (an e-mail address for ``email``).
    address: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]


class AddressCode(msgspec.Struct, frozen=True):
    #: The six-digit code sent to the address being confirmed.
    code: Annotated[str, msgspec.Meta(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]


class AddressView(msgspec.Struct, frozen=True):
    channel: str
    #: The confirmed address notices go to (null: none yet).
    address: str | None
    confirmed_at: datetime | None
    #: An address waiting for its code, if any.
    pending: str | None


class AddressCodeSent(msgspec.Struct, frozen=True):
    channel: str
    pending: str
    #: Seconds the code stays valid.
    expires_in: int
