"""The domains that make up the service, each contributing routes, consumers, loops and commands.

Adding a domain means adding it to ``_DOMAIN_MODULES``; everything else about it lives in
its own package (``<package>/domain.py`` exports ``DOMAIN``).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg
    import click

    from wallet_api.keys.provider import KeyRequirement
    from wallet_api.settings import Settings
    from wallet_api.worker import BackgroundLoop

__all__ = ["Domain", "SeedOptions", "Seeder", "load_domains"]


@dataclass(frozen=True)
class SeedOptions:
    #: Synthetic citizens to generate in the population registry.
    citizens: int = 1000
    #: Random seed, so that demo data is the same on every machine.
    random_seed: int = 6


Seeder = Callable[["asyncpg.Pool", "Settings", SeedOptions], Awaitable[None]]


@dataclass(frozen=True)
class Domain:
    name: str
    #: Litestar controllers, routers or handlers.
    routes: Sequence[Any] = ()
    #: Periodic background work run by ``wallet worker``.
    loops: Sequence[BackgroundLoop] = ()
    #: Click commands or groups added to the ``wallet`` CLI.
    commands: Sequence[click.Command] = ()
    #: Litestar plugins (e.g. channels) the domain needs.
    plugins: Sequence[Any] = field(default_factory=tuple)
    #: Demo-data loaders run by ``wallet seed``, in domain order; each must be idempotent.
    seeders: Sequence[Seeder] = ()
    #: Signing keys that must exist and be published from the start (made at start-up).
    signing_keys: Sequence[KeyRequirement] = ()


_DOMAIN_MODULES = (
    "wallet_api.core_domain",
    "wallet_api.accounts.domain",
    "documents.domain",
    "payments.linking.domain",
    "payments.disbursement.domain",
    "notifications.domain",
    "proofing.domain",
    "consoles.domain",
)


def load_domains() -> list[Domain]:
    """Import every domain (which also registers its outbox consumers)."""
    domains = []
    for module_name in _DOMAIN_MODULES:
        module = importlib.import_module(module_name)
        domains.append(module.DOMAIN)
    return domains
