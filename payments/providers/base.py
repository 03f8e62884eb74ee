"""The interface every e-wallet provider adapter implements.

Money is integer đồng. A payout is idempotent on our ``payment_id``: sending the same id
twice never pays twice, and :meth:`WalletProvider.payout_status` answers for an id whose
outcome we did not see (time-out, crash). An adapter raises :class:`ProviderUnavailable`
whenever the outcome of a call is unknown: callers must then ask, never resend blindly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

__all__ = [
    "AccountInquiry",
    "PayoutItem",
    "PayoutResult",
    "PayoutStatus",
    "ProviderAnswered",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderRejected",
    "ProviderUnavailable",
    "ProviderUnreachable",
    "StatementLine",
    "WalletProvider",
]


class ProviderError(Exception):
    """Base of every provider failure."""


class ProviderUnavailable(ProviderError):
    """Time-out, connection failure or 5xx: the outcome is unknown."""


class ProviderUnreachable(ProviderUnavailable):
    """No connection could be made (refused, connect time-out): the request provably never left."""


class ProviderAnswered(ProviderUnavailable):
    """A 5xx answer from the provider itself (not 502/504 from a gateway in front of it): the
    outcome is unknown, but the request is no longer in progress there, so a status query
    that says "not found" can be believed at once."""


class ProviderRateLimited(ProviderError):
    """429: slow down; nothing was done."""

    def __init__(self, retry_after: float = 1.0) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class ProviderRejected(ProviderError):
    """The provider definitely did not act (unknown account, closed, limit exceeded, bad OTP)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AccountInquiry:
    wallet_account: str
    owner_person_id: str
    owner_name: str
    status: Literal["active", "closed", "locked"]


@dataclass(frozen=True)
class PayoutItem:
    payment_id: str
    wallet_account: str
    amount: int
    #: Shown on the citizen's wallet statement (programme name), no personal data.
    description: str


@dataclass(frozen=True)
class PayoutResult:
    payment_id: str
    outcome: Literal["succeeded", "failed", "pending"]
    provider_ref: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class PayoutStatus:
    payment_id: str
    state: Literal["succeeded", "failed", "pending", "not_found"]
    amount: int | None = None
    provider_ref: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class StatementLine:
    payment_id: str
    provider_ref: str
    wallet_account: str
    amount: int
    kind: Literal["payout", "reversal"]
    at: datetime


class WalletProvider(Protocol):
    code: str
    bulk_size: int

    async def inquire(self, wallet_account: str) -> AccountInquiry: ...

    async def request_link_otp(self, wallet_account: str, link_id: str) -> None: ...

    async def confirm_link(self, wallet_account: str, link_id: str, otp: str) -> None: ...

    async def payout(self, items: Sequence[PayoutItem]) -> list[PayoutResult]: ...

    async def payout_status(self, payment_id: str) -> PayoutStatus: ...

    def statement(self, day: date) -> AsyncIterator[StatementLine]: ...
