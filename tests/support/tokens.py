"""The ``mint`` fixture's type: access tokens for tests of routes, not of sign-in itself."""

from __future__ import annotations

from typing import Any, Protocol

from wallet_api.auth.principal import Principal

__all__ = ["Mint"]


class Mint(Protocol):
    """Authorization headers for ``principal``, or for a principal made of ``fields``."""

    async def __call__(self, principal: Principal | None = None, **fields: Any) -> dict[str, str]: ...
