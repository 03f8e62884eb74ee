"""Faults the simulator injects, set at start (CLI options) or at runtime (``PUT /_admin/faults``).

Faults are per provider (with a default for all), live in the simulator process's memory
(the simulator is one process, like one remote system) and start from the CLI options
on every start, so a restart never silently keeps a test's faults.
"""

from __future__ import annotations

import math
import random
from typing import Any

import msgspec

__all__ = ["OPERATIONS", "FaultBook", "Faults"]

#: Operations a fault may be limited to (``operations``; empty means all of them).
OPERATIONS = ("inquiry", "link_otp", "link_confirm", "payout", "payout_status", "statement")


class Faults(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: Median added latency; with ``latency_sigma`` > 0 latency is log-normal around it.
    latency_ms: float = 0.0
    latency_sigma: float = 0.0
    latency_max_ms: float = 30_000.0
    #: Share of requests answered 503 before doing anything.
    error_rate: float = 0.0
    #: Share of requests answered 429 (besides ``rate_limit_per_second``).
    throttle_rate: float = 0.0
    #: Requests per second the provider accepts from us before answering 429 (0: unlimited).
    rate_limit_per_second: float = 0.0
    #: Share of payouts and link confirmations that are committed, then the response is lost:
    #: the connection hangs ``hang_ms`` and ends with 504.
    timeout_after_commit_rate: float = 0.0
    hang_ms: float = 30_000.0
    #: Share of otherwise good payouts rejected with ``reject_reason``.
    reject_rate: float = 0.0
    reject_reason: str = "limit_exceeded"
    #: Payouts answer "pending" and settle (status, statement, webhook) after this delay.
    settle_delay_ms: float = 0.0
    #: Share of payout webhooks sent twice, sent late (``webhook_late_ms``), or never sent.
    webhook_duplicate_rate: float = 0.0
    webhook_late_rate: float = 0.0
    webhook_late_ms: float = 60_000.0
    webhook_drop_rate: float = 0.0
    #: Limit the faults above to these operations (see OPERATIONS); empty: every operation.
    operations: list[str] = msgspec.field(default_factory=list)

    def validate(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
            if name.endswith(("_ms", "_sigma", "_per_second")) and value < 0:
                raise ValueError(f"{name} must not be negative")
        unknown = set(self.operations) - set(OPERATIONS)
        if unknown:
            raise ValueError(f"unknown operations: {', '.join(sorted(unknown))}")

    def applies_to(self, operation: str) -> bool:
        return not self.operations or operation in self.operations

    def latency(self, rng: random.Random) -> float:
        """Seconds to wait before answering."""
        if self.latency_ms <= 0:
            return 0.0
        ms = self.latency_ms
        if self.latency_sigma > 0:
            ms = self.latency_ms * math.exp(rng.gauss(0.0, self.latency_sigma))
        return min(ms, self.latency_max_ms) / 1000.0


def merge(base: Faults, changes: dict[str, Any]) -> Faults:
    merged = msgspec.convert({**msgspec.to_builtins(base), **changes}, Faults)
    merged.validate()
    return merged


class FaultBook:
    """The default faults and per-provider overrides."""

    def __init__(self, default: Faults | None = None) -> None:
        self._initial = default or Faults()
        self._initial.validate()
        self.default = self._initial
        self.by_provider: dict[str, Faults] = {}

    def for_provider(self, code: str) -> Faults:
        return self.by_provider.get(code, self.default)

    def update(self, changes: dict[str, Any], provider: str | None = None) -> Faults:
        if provider is None:
            self.default = merge(self.default, changes)
            return self.default
        updated = merge(self.for_provider(provider), changes)
        self.by_provider[provider] = updated
        return updated

    def reset(self) -> None:
        """Back to the faults given at start."""
        self.default = self._initial
        self.by_provider = {}

    def describe(self) -> dict[str, Any]:
        return {
            "default": msgspec.to_builtins(self.default),
            "providers": {k: msgspec.to_builtins(v) for k, v in self.by_provider.items()},
        }
