"""The domains that make up the service, each declaring its routes, outbox consumers, loops,
commands, seeders and the per-process services it builds.

Adding a domain means adding it to ``_DOMAIN_MODULES``; everything else about it lives in
its own package (``<package>/domain.py`` exports ``DOMAIN``). Nothing is registered by
importing a module: the app, the worker and the outbox's routing read these declarations.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg
    import click

    from wallet_api.keys.provider import KeyRequirement
    from wallet_api.outbox.consumers import Consumer
    from wallet_api.services import ServiceFactory
    from wallet_api.settings import Settings
    from wallet_api.worker_context import BackgroundLoop

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
    #: Outbox consumers run by ``wallet worker``; publishing a topic addresses the consumers
    #: that some domain declares for it (wallet_api/outbox/routing.py).
    consumers: Sequence[Consumer] = ()
    #: The domain's per-process services (adapters, gateways, pipelines), built from the
    #: kernel's by ``Services.get`` on first use and closed with the process.
    services: Sequence[ServiceFactory[Any]] = ()
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
    "openid4vp.domain",
    "openid4vci.domain",
    "payments.linking.domain",
    "payments.disbursement.domain",
    "notifications.domain",
    "proofing.domain",
    "consoles.domain",
)


@functools.cache
def _declared() -> tuple[Domain, ...]:
    return tuple(importlib.import_module(name).DOMAIN for name in _DOMAIN_MODULES)


def load_domains() -> list[Domain]:
    """Every domain of the service, in order (their modules are imported once)."""
    return list(_declared())
