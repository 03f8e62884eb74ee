"""The answer when the population registry does not answer."""

from __future__ import annotations

from wallet_api.kernel import Problem

__all__ = ["registry_down"]


def registry_down() -> Problem:
    return Problem(
        "The population registry is not answering; try again in a few minutes.",
        slug="registry-unavailable",
        title="Registry unavailable",
        status=503,
    )
