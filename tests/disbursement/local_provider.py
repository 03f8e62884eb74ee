"""An in-process e-wallet provider with its own books, for driving the payout state machine.

It behaves as the interface promises a real provider does: a payout is idempotent on our
payment id (a second request with a known id answers with the first outcome and pays
nothing), ``payout_status`` reports what it has, and ``statement`` lists what it paid.
Faults are injected on purpose: time-outs after the provider has committed the payout,
time-outs before it saw the request, 429s, closed wallets.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from payments.providers.base import (
    AccountInquiry,
    PayoutItem,
    PayoutResult,
    PayoutStatus,
    ProviderAnswered,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderUnreachable,
    StatementLine,
    WalletProvider,
)
from payments.providers.registry import UnknownProvider


@dataclass
class Booked:
    payment_id: str
    wallet_account: str
    amount: int
    ref: str
    at: datetime
    reversed_at: datetime | None = None


@dataclass
class LocalProvider:
    code: str = "localpay"
    bulk_size: int = 100
    #: Share of bulk calls that commit and then time out (we never see the answer).
    timeout_after_commit: float = 0.0
    #: Share of bulk calls that time out before the provider saw them.
    timeout_before: float = 0.0
    rate_limited: float = 0.0
    #: Share of bulk calls that find no connection (refused): nothing reaches the provider.
    unreachable: float = 0.0
    #: Share of bulk calls the provider answers 503 before acting.
    server_error: float = 0.0
    #: While set and not yet released, the first ``hang_calls`` bulk calls wait for it (a hung reply).
    hang: asyncio.Event | None = None
    hang_calls: int = 0
    closed_wallets: set[str] = field(default_factory=set)
    #: Latency of a call, seconds.
    latency: float = 0.0
    seed: int = 6
    books: dict[str, Booked] = field(default_factory=dict)
    #: How many times each payment id was *executed* (must never exceed 1).
    executions: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    status_queries: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = asyncio.Lock()

    async def inquire(self, wallet_account: str) -> AccountInquiry:
        raise NotImplementedError("linking is not exercised here")

    async def request_link_otp(self, wallet_account: str, link_id: str) -> None:
        raise NotImplementedError("linking is not exercised here")

    async def confirm_link(self, wallet_account: str, link_id: str, otp: str) -> None:
        raise NotImplementedError("linking is not exercised here")

    async def payout(self, items: Sequence[PayoutItem]) -> list[PayoutResult]:
        if self._random.random() < self.unreachable:
            raise ProviderUnreachable("connection refused")
        self.requests += 1
        if self.hang is not None and self.hang_calls > 0:
            self.hang_calls -= 1
            await self.hang.wait()
        if self.latency:
            await asyncio.sleep(self.latency)
        roll = self._random.random()
        if roll < self.rate_limited:
            raise ProviderRateLimited(0.01)
        if roll < self.rate_limited + self.timeout_before:
            raise ProviderUnavailable("timed out before the provider read the request")
        if roll < self.rate_limited + self.timeout_before + self.server_error:
            raise ProviderAnswered("answered 503 before acting")
        results = []
        async with self._lock:
            for item in items:
                results.append(self._execute(item))
        if self._random.random() < self.timeout_after_commit:
            raise ProviderUnavailable("timed out after the provider committed")
        return results

    def _execute(self, item: PayoutItem) -> PayoutResult:
        known = self.books.get(item.payment_id)
        if known is not None:
            return PayoutResult(item.payment_id, "succeeded", known.ref)
        if item.wallet_account in self.closed_wallets:
            return PayoutResult(item.payment_id, "failed", reason="wallet_closed")
        ref = f"{self.code}-{len(self.books) + 1:09d}"
        self.books[item.payment_id] = Booked(item.payment_id, item.wallet_account, item.amount, ref, datetime.now(UTC))
        self.executions[item.payment_id] = self.executions.get(item.payment_id, 0) + 1
        return PayoutResult(item.payment_id, "succeeded", ref)

    async def payout_status(self, payment_id: str) -> PayoutStatus:
        self.status_queries += 1
        known = self.books.get(payment_id)
        if known is None:
            return PayoutStatus(payment_id, "not_found")
        return PayoutStatus(payment_id, "succeeded", known.amount, known.ref)

    def reverse(self, payment_id: str) -> None:
        self.books[payment_id].reversed_at = datetime.now(UTC)

    async def statement(self, day: date) -> AsyncIterator[StatementLine]:
        for b in list(self.books.values()):
            if b.at.date() == day:
                yield StatementLine(b.payment_id, b.ref, b.wallet_account, b.amount, "payout", b.at)
            if b.reversed_at is not None and b.reversed_at.date() == day:
                yield StatementLine(b.payment_id, b.ref, b.wallet_account, b.amount, "reversal", b.reversed_at)

    @property
    def paid_total(self) -> int:
        return sum(b.amount for b in self.books.values() if b.reversed_at is None)


class LocalRegistry:
    """Stands where the providers registry stands in a worker (``services={PROVIDERS: LocalRegistry(...)}``)."""

    def __init__(self, *providers: WalletProvider) -> None:
        self._providers = {p.code: p for p in providers}

    def get(self, code: str) -> WalletProvider:
        try:
            return self._providers[code]
        except KeyError:
            raise UnknownProvider(code) from None

    async def aclose(self) -> None:
        return None
