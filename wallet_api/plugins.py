"""One-folder plugins: each sub-package of a package exports one object under a fixed name.

Document types (documents/types/) and notification channels (notifications/channels/) are
found this way: adding one is adding a folder, with no list to edit elsewhere.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from typing import TypeVar

__all__ = ["folder_plugins"]

T = TypeVar("T")


def folder_plugins(
    package: str, path: Iterable[str], attribute: str, kind: type[T], name_of: Callable[[T], str]
) -> dict[str, T]:
    """``attribute`` of every sub-package of ``package`` (at ``path``), by folder name, in name
    order; each must be a ``kind`` whose ``name_of`` is its folder name."""
    found: dict[str, T] = {}
    for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        plugin = getattr(module, attribute, None)
        if not isinstance(plugin, kind):
            raise RuntimeError(f"{module.__name__} does not export a {attribute}")
        if name_of(plugin) != info.name:
            raise RuntimeError(f"{module.__name__}: {attribute}'s name must be the folder name")
        found[info.name] = plugin
    return found
