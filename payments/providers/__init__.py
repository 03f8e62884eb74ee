"""E-wallet providers (MoMo, ZaloPay, VNPT Money, Viettel Money, ...) behind one interface."""

from payments.providers.base import (
    AccountInquiry,
    PayoutItem,
    PayoutResult,
    PayoutStatus,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    StatementLine,
    WalletProvider,
)

__all__ = [
    "AccountInquiry",
    "PayoutItem",
    "PayoutResult",
    "PayoutStatus",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderRejected",
    "ProviderUnavailable",
    "StatementLine",
    "WalletProvider",
]
