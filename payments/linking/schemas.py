"""Request and response bodies of the wallet-link API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

__all__ = ["LinkRequest", "OtpSubmission", "WalletLinkView", "view_of"]

WalletAccount = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{4,64}$", max_length=64)]
ProviderCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
Otp = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4,8}$")]


class LinkRequest(msgspec.Struct, forbid_unknown_fields=True):
    #: Provider code (GET /v1/wallet-providers lists them), e.g. "momo".
    provider: ProviderCode
    #: The wallet account at that provider: usually the phone number the wallet is opened with.
    wallet_account: WalletAccount
    #: Make it the payout wallet once linked (the first linked wallet always is).
    make_default: bool = True


class OtpSubmission(msgspec.Struct, forbid_unknown_fields=True):
    #: The code the provider sent to the wallet owner's phone.
    otp: Otp


class WalletLinkView(msgspec.Struct):
    id: UUID
    provider: str
    wallet_account: str
    #: requested → inquiring → awaiting_otp → confirming → active; or refused, failed,
    #: unlinked, under_review.
    state: str
    #: Why a link was refused or failed, or what the citizen must do (otp_invalid, ...).
    reason: str | None
    is_default: bool
    #: Payouts to this wallet hold until then (cooling-off after adding or changing it).
    payout_hold_until: datetime | None
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    unlinked_at: datetime | None


class ProviderView(msgspec.Struct):
    code: str
    name: str


def view_of(row: Any) -> WalletLinkView:
    return WalletLinkView(
        id=row["id"],
        provider=row["provider"],
        wallet_account=row["wallet_account"],
        state=row["state"],
        reason=row["refusal_reason"],
        is_default=row["is_default"],
        payout_hold_until=row["payout_hold_until"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        activated_at=row["activated_at"],
        unlinked_at=row["unlinked_at"],
    )
