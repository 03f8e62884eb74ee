"""Document types: one sub-package each, found at import time.

Adding a type means adding a folder here whose ``__init__`` exports ``DOCUMENT_TYPE``
(a :class:`~documents.types.base.DocumentType`); no other file changes.
"""

from __future__ import annotations

from documents.types.base import (
    DERIVED_AGE_OVER_18,
    HOLDER_FACTS,
    CardLayout,
    DocumentInvalid,
    DocumentType,
    FieldError,
    Label,
)
from wallet_api.kernel import folder_plugins

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


_TYPES = folder_plugins(__name__, __path__, "DOCUMENT_TYPE", DocumentType, lambda t: t.code)


def get_type(code: str) -> DocumentType | None:
    return _TYPES.get(code)


def all_types() -> list[DocumentType]:
    return [_TYPES[c] for c in sorted(_TYPES)]
