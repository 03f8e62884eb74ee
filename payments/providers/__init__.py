"""E-wallet providers: one interface (base), adapters as plugins, configuration and a registry.

Callers import from here::

    from payments.providers import PROVIDERS, ProviderUnavailable
    provider = services.get(PROVIDERS).get("momo")   # the process's registry, from its Services

Each provider's configuration names the adapter that speaks its API; each adapter is one
folder under ``adapters/`` (``adapters/http``: the documented provider API), found by
:mod:`payments.providers.adapter` when a registry is built.

Exception tree (``payments.providers.base``)::

    ProviderError                 any provider failure (401/403: our credentials refused)
    ├── ProviderUnavailable       time-out, connection dropped, 5xx: outcome unknown
    │   ├── ProviderUnreachable   no connection made: the request never left
    │   └── ProviderAnswered      a 5xx from the provider itself: the request is over there
    ├── ProviderRateLimited       429 or our own bucket empty: nothing was done
    ├── ProviderRejected          the provider definitely did not act (reason code)
    └── UnknownProvider           no such provider code is configured
"""

from payments.providers.adapter import OwnedProvider, ProviderAdapter, adapter_named, adapter_names
from payments.providers.base import (
    AccountInquiry,
    PayoutItem,
    PayoutResult,
    PayoutStatus,
    ProviderAnswered,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    ProviderUnreachable,
    StatementLine,
    WalletProvider,
)
from payments.providers.config import ProviderConfig, load_provider_configs
from payments.providers.registry import PROVIDERS, ProviderRegistry, UnknownProvider, provider_for
from payments.providers.signing import WebhookSignatureError, sign_webhook, verify_webhook

__all__ = [
    "PROVIDERS",
    "AccountInquiry",
    "OwnedProvider",
    "PayoutItem",
    "PayoutResult",
    "PayoutStatus",
    "ProviderAdapter",
    "ProviderAnswered",
    "ProviderConfig",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderRegistry",
    "ProviderRejected",
    "ProviderUnavailable",
    "ProviderUnreachable",
    "StatementLine",
    "UnknownProvider",
    "WalletProvider",
    "WebhookSignatureError",
    "adapter_named",
    "adapter_names",
    "load_provider_configs",
    "provider_for",
    "sign_webhook",
    "verify_webhook",
]
