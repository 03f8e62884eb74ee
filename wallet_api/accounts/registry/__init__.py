"""The national population database, behind one small interface.

The registry is an external system of record (Bộ Công an's national population database):
we look people up in it, we never own it. :class:`HttpRegistry` speaks to a real registry;
:class:`LocalRegistry` reads the ``population`` table that ``wallet seed`` fills for
development and tests. :func:`population_registry` picks one from the settings.
"""

from wallet_api.accounts.registry.base import Person, PopulationRegistry, RegistryUnavailable
from wallet_api.accounts.registry.http import HttpRegistry
from wallet_api.accounts.registry.local import LocalRegistry
from wallet_api.accounts.registry.select import population_registry

__all__ = [
    "HttpRegistry",
    "LocalRegistry",
    "Person",
    "PopulationRegistry",
    "RegistryUnavailable",
    "population_registry",
]
