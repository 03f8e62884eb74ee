"""Providers are configuration: one entry per e-wallet in ``WALLET_PROVIDERS`` (a JSON list).

Each entry names the adapter that speaks the provider's API (``adapter``, a folder under
``payments/providers/adapters/``; ``http``, the documented API, by default) and that
adapter's own settings (``options``), the provider's base URL, our credentials there (a
bearer API key for our calls, an HMAC secret for its webhooks), the request rate it allows
us and the largest bulk payout it accepts. Outside production an empty ``WALLET_PROVIDERS``
means the development set (MoMo, ZaloPay, VNPT Money, Viettel Money) served by the simulator
(``simulators/provider_sim``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from wallet_api.kernel import Settings, SettingsError

__all__ = ["DEVELOPMENT_PROVIDERS", "ProviderConfig", "load_provider_configs"]

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")

#: (code, display name) of the development set, all served by the simulator.
DEVELOPMENT_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("momo", "MoMo"),
    ("zalopay", "ZaloPay"),
    ("vnptmoney", "VNPT Money"),
    ("viettelmoney", "Viettel Money"),
)


@dataclass(frozen=True)
class ProviderConfig:
    code: str
    name: str
    #: Everything of the provider API lives under this URL (``{base_url}/v1/...``).
    base_url: str
    #: Sent as ``Authorization: Bearer`` on every call we make.
    api_key: str
    #: Shared secret of the provider's webhook signatures (HMAC-SHA256).
    webhook_secret: str
    #: Requests per second the provider allows us, shared by every process (token bucket in Redis).
    rate_limit_per_second: float = 50.0
    #: Requests that may go at once after an idle period.
    burst: int = 50
    #: Largest number of items in one bulk payout request.
    bulk_size: int = 100
    #: Seconds to wait for a response before the outcome is "unknown".
    timeout_seconds: float = 10.0
    connect_timeout_seconds: float = 3.0
    #: Connections kept open to the provider by one process.
    max_connections: int = 50
    #: Seconds a caller may wait for a rate-limit token before giving up (ProviderRateLimited).
    max_wait_seconds: float = 2.0
    #: When Redis is unreachable, each process allows this share of the rate on its own.
    fallback_share: float = 0.1
    #: The adapter speaking this provider's API: a folder of ``payments/providers/adapters/``.
    adapter: str = "http"
    #: Settings of that adapter beyond the common ones above, checked by the adapter.
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise SettingsError(f"provider code {self.code!r} must match {_CODE.pattern}")
        if not self.base_url.startswith(("http://", "https://")):
            raise SettingsError(f"provider {self.code}: base_url must be an http(s) URL")
        if self.rate_limit_per_second <= 0 or self.burst < 1 or self.bulk_size < 1:
            raise SettingsError(f"provider {self.code}: rate_limit_per_second, burst and bulk_size must be positive")
        if not 0 < self.fallback_share <= 1:
            raise SettingsError(f"provider {self.code}: fallback_share must be in (0, 1]")
        if not self.api_key or not self.webhook_secret:
            raise SettingsError(f"provider {self.code}: api_key and webhook_secret are required")
        self._check_adapter()

    def _check_adapter(self) -> None:
        # Imported here: adapters import this module for ProviderConfig.
        from payments.providers.adapter import adapter_named, adapter_names

        adapter = adapter_named(self.adapter)
        if adapter is None:
            raise SettingsError(
                f"provider {self.code}: no adapter {self.adapter!r} (adapters: {', '.join(adapter_names())})"
            )
        if not isinstance(self.options, Mapping):
            raise SettingsError(f"provider {self.code}: options must be an object")
        try:
            adapter.check_options(self.options)
        except ValueError as exc:
            raise SettingsError(f"provider {self.code}: adapter {self.adapter} {exc}") from exc

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> ProviderConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise SettingsError(f"WALLET_PROVIDERS: unknown keys {', '.join(unknown)}")
        try:
            return cls(**raw)
        except TypeError as exc:
            raise SettingsError(f"WALLET_PROVIDERS: {exc}") from exc


def _webhook_secrets(raw: str) -> dict[str, str]:
    """``WALLET_PROVIDER_WEBHOOK_SECRETS`` (``code=secret,...``, read by the callback receiver)."""
    out: dict[str, str] = {}
    for part in raw.split(","):
        code, sep, secret = part.strip().partition("=")
        if sep and code.strip() and secret.strip():
            out[code.strip()] = secret.strip()
    return out


def development_configs(sim_url: str, webhook_secrets: str = "") -> list[ProviderConfig]:
    """The development set: every provider on the simulator under ``{sim_url}/{code}``.

    Webhook secrets come from ``WALLET_PROVIDER_WEBHOOK_SECRETS`` when it names the
    provider, so that the simulator signs with the secret the receiver checks.
    """
    base = sim_url.rstrip("/")
    secrets = _webhook_secrets(webhook_secrets)
    return [
        ProviderConfig(
            code=code,
            name=name,
            base_url=f"{base}/{code}",
            api_key=f"dev-{code}-api-key",
            webhook_secret=secrets.get(code, f"dev-{code}-webhook-secret"),
        )
        for code, name in DEVELOPMENT_PROVIDERS
    ]


def load_provider_configs(settings: Settings) -> dict[str, ProviderConfig]:
    """Provider configurations by code, from ``WALLET_PROVIDERS`` or the development set."""
    if not settings.providers.configs:
        if settings.env == "production":
            return {}
        return {c.code: c for c in development_configs(settings.providers.sim_url, settings.providers.webhook_secrets)}
    try:
        raw = json.loads(settings.providers.configs)
    except ValueError as exc:
        raise SettingsError("WALLET_PROVIDERS is not valid JSON") from exc
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise SettingsError("WALLET_PROVIDERS must be a JSON list of provider objects")
    configs = [ProviderConfig.from_mapping(item) for item in raw]
    by_code = {c.code: c for c in configs}
    if len(by_code) != len(configs):
        raise SettingsError("WALLET_PROVIDERS lists a provider code twice")
    return by_code
