"""Document types: one sub-package each, found at import time.

Adding a type means adding a folder here whose ``__init__`` exports ``DOCUMENT_TYPE``
(a :class:`~documents.types.base.DocumentType`); no other file changes.
"""

from __future__ import annotations

import importlib
import pkgutil

from documents.types.base import (
    DERIVED_AGE_OVER_18,
    HOLDER_FACTS,
    CardLayout,
    DocumentInvalid,
    DocumentType,
    FieldError,
    Label,
)

__all__ = [
    "DERIVED_AGE_OVER_18",
    "HOLDER_FACTS",
    "CardLayout",
    "DocumentInvalid",
    "DocumentType",
    "FieldError",
    "Label",
    "all_types",
    "get_type",
]


def _discover() -> dict[str, DocumentType]:
    found: dict[str, DocumentType] = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        doc_type = getattr(module, "DOCUMENT_TYPE", None)
        if not isinstance(doc_type, DocumentType):
            raise RuntimeError(f"{module.__name__} does not export a DOCUMENT_TYPE")
        if doc_type.code != info.name:
            raise RuntimeError(f"{module.__name__}: DOCUMENT_TYPE.code must be the folder name")
        found[doc_type.code] = doc_type
    return found


_TYPES = _discover()


def get_type(code: str) -> DocumentType | None:
    return _TYPES.get(code)


def all_types() -> list[DocumentType]:
    return [_TYPES[c] for c in sorted(_TYPES)]
