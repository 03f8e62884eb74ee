"""Hypothesis settings and strategies shared by the disbursement property tests."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.disbursement.local_provider import LocalProvider

__all__ = ["PROVIDER_FAULTS", "db_examples", "faulty_provider"]


def db_examples(n: int) -> settings:
    """``n`` examples against the real database: no deadline, fixtures shared, reproducible."""
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,
    )


#: How the local provider misbehaves, and how many of the residents it cannot pay or reach.
PROVIDER_FAULTS: dict[str, st.SearchStrategy[Any]] = {
    "timeout_after_commit": st.sampled_from([0.0, 0.3, 1.0]),
    "timeout_before": st.sampled_from([0.0, 0.3]),
    "rate_limited": st.sampled_from([0.0, 0.2]),
    "bulk_size": st.integers(min_value=1, max_value=7),
    "closed": st.integers(min_value=0, max_value=3),
    "no_wallet": st.integers(min_value=0, max_value=3),
}


def faulty_provider(case: dict[str, Any], seed: int) -> LocalProvider:
    """The local provider misbehaving as ``case`` (drawn from :data:`PROVIDER_FAULTS`) says."""
    return LocalProvider(
        bulk_size=case["bulk_size"],
        timeout_after_commit=case["timeout_after_commit"],
        timeout_before=case["timeout_before"],
        rate_limited=case["rate_limited"],
        seed=seed,
    )
