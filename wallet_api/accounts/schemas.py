"""Request and response bodies of the accounts API (msgspec Structs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "AccountView",
    "ChallengeRequest",
    "ChallengeView",
    "ChildLinkRequest",
    "ChildView",
    "DeathReport",
    "DeviceBindingComplete",
    "DeviceBindingStart",
    "DeviceIn",
    "DevicePairingComplete",
    "DeviceRename",
    "DeviceView",
    "LevelTwoRequest",
    "OfficerSignIn",
    "Pending",
    "PhoneChange",
    "PhoneChangeConfirm",
    "RefreshRequest",
    "RegistrationComplete",
    "RegistrationStart",
    "SessionView",
    "SignInRequest",
    "StepUpRequest",
    "TokenView",
]

PersonId = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{12}$", description="12-digit personal ID number")]
Phone = Annotated[str, msgspec.Meta(min_length=9, max_length=16, description="Vietnamese mobile, 0… or +84…")]
# PostgreSQL text cannot hold NUL, and no name needs control characters.
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=_PRINTABLE)]
DeviceName = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=_PRINTABLE)]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
Code = Annotated[str, msgspec.Meta(pattern=r"^\s*[0-9]{6}\s*$")]
Opaque = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Signature = Annotated[
    str,
    msgspec.Meta(
        min_length=40, max_length=200, description="base64url of the ES256 signature: raw r||s (64 bytes) or DER"
    ),
]


class RegistrationStart(msgspec.Struct, forbid_unknown_fields=True):
    person_id: PersonId
    full_name: Name
    date_of_birth: date
    phone: Phone


class Pending(msgspec.Struct):
    """The same answer whether or not the details matched: a code was sent if they did."""

    id: str
    expires_in: int
    message: str


class DeviceIn(msgspec.Struct, forbid_unknown_fields=True):
    public_jwk: dict[str, Any]
    name: DeviceName
    push_platform: Literal["fcm", "apns"] | None = None
    push_token: Annotated[str, msgspec.Meta(max_length=4096, pattern=_PRINTABLE)] | None = None


class RegistrationComplete(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    password: Password
    device: DeviceIn
    #: The new device's signature over ``citizen-wallet:bind:<registration id>``.
    signature: Signature


class DeviceBindingStart(msgspec.Struct, forbid_unknown_fields=True):
    person_id: PersonId
    phone: Phone
    password: Password


class DeviceBindingComplete(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    device: DeviceIn
    #: The new device's signature over ``citizen-wallet:bind:<binding id>``.
    signature: Signature


class DevicePairingComplete(msgspec.Struct, forbid_unknown_fields=True):
    device: DeviceIn
    #: The new device's signature over ``citizen-wallet:bind:<pairing id>``.
    signature: Signature


class PhoneChange(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone


class PhoneChangeConfirm(msgspec.Struct, forbid_unknown_fields=True):
    code: Code


class ChallengeRequest(msgspec.Struct, forbid_unknown_fields=True):
    device_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F-]{32,36}$")]
    purpose: Literal["sign-in", "step-up"] = "sign-in"


class ChallengeView(msgspec.Struct):
    challenge: str
    expires_in: int
    #: What the device signs: ``citizen-wallet:<purpose>:<challenge>`` (UTF-8).
    sign: str


class SignInRequest(msgspec.Struct, forbid_unknown_fields=True):
    device_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F-]{32,36}$")]
    challenge: Opaque
    signature: Signature


class StepUpRequest(msgspec.Struct, forbid_unknown_fields=True):
    challenge: Opaque
    signature: Signature


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Opaque


class SessionView(msgspec.Struct):
    access_token: str
    expires_in: int
    refresh_token: str
    account_id: str
    device_id: str
    level: int
    token_type: str = "Bearer"


class TokenView(msgspec.Struct):
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


class AccountView(msgspec.Struct):
    account_id: str
    level: int
    state: str
    language: str
    phone_hint: str
    full_name: str | None
    payout_locked_until: datetime | None
    #: The earliest of ``guardian_account_ids`` (kept for clients that read one guardian).
    guardian_account_id: str | None
    #: Who manages this account today (a child's, under 14: its parents who linked it).
    guardian_account_ids: list[str]


class DeviceView(msgspec.Struct):
    id: str
    name: str
    push_platform: str | None
    bound_at: datetime
    last_seen_at: datetime | None
    current: bool


class DeviceRename(msgspec.Struct, forbid_unknown_fields=True):
    name: DeviceName


class LevelTwoRequest(msgspec.Struct, forbid_unknown_fields=True):
    person_id: PersonId
    #: The officer checked the chip card in the citizen's hands.
    chip_card_checked: bool
    #: The officer matched face or fingerprint against the chip.
    biometrics_checked: bool


class DeathReport(msgspec.Struct, forbid_unknown_fields=True):
    person_id: PersonId
    died_on: date


class ChildView(msgspec.Struct):
    person_id: str
    full_name: str
    date_of_birth: date
    account_id: str | None
    managed_by_me: bool


class ChildLinkRequest(msgspec.Struct, forbid_unknown_fields=True):
    person_id: PersonId


class OfficerSignIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=_PRINTABLE)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
