"""SD-JWT VC Type Metadata of each document type, made from its plugin (no JSON written per type).

A credential's ``vct`` (``https://citizenwallet.vn/credentials/<type>/v<n>``) is an HTTPS URL,
so a verifier or wallet may GET it for the type's metadata (draft-ietf-oauth-sd-jwt-vc,
"Type Metadata", "From a URL in the vct Claim"): names and a simple rendering in Vietnamese
and English, and for every claim its labels, whether the issuer always includes it, and
that it is always selectively disclosable (each field is its own disclosure: sdjwt.py).
The app serves it under the ``vct``'s own path on our host (public.py); docs/standards.md
says why there is no ``vct#integrity``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec

from documents.types import DERIVED_AGE_OVER_18, DocumentType, Label, all_types

__all__ = ["TypeMetadataDocument", "type_metadata", "type_metadata_at"]

#: The locales of every display entry, in the order a reader sees them (the citizen's first).
_LOCALES = ("vi", "en")

#: Text colours a background of a given lightness needs for contrast (WCAG relative luminance).
_DARK_TEXT, _LIGHT_TEXT = "#1a1a1a", "#ffffff"


def type_metadata(doc_type: DocumentType) -> dict[str, Any]:
    """The Type Metadata document of ``doc_type``'s ``vct``."""
    # A field is in every credential unless it may be left out (None by default): the
    # type's schema fills the other defaults in (a licence's points) before minting.
    always_present = {f.name for f in msgspec.structs.fields(doc_type.schema) if f.default is not None}
    colour = doc_type.card.colour
    return {
        "vct": doc_type.vct,
        "name": f"{doc_type.title.en} ({doc_type.title.vi})",
        "description": (
            f"{doc_type.title.en} held in Citizen Wallet as an SD-JWT VC; every claim is its own "
            f"disclosure. Generated from the document-type plugin '{doc_type.code}'."
        ),
        "display": [
            {
                "locale": locale,
                "name": _text(doc_type.title, locale),
                "description": _text(_DESCRIPTION, locale).format(title=_text(doc_type.title, locale)),
                "rendering": {"simple": {"background_color": colour, "text_color": _text_colour(colour)}},
            }
            for locale in _LOCALES
        ],
        "claims": [
            {
                "path": [name],
                "display": [{"locale": locale, "label": _text(doc_type.label(name), locale)} for locale in _LOCALES],
                # Every field, and age_over_18 once true, is its own disclosure (sdjwt.py).
                "sd": "always",
                # age_over_18 is derived and added only once true; optional fields may be absent.
                "mandatory": name in always_present and name != DERIVED_AGE_OVER_18,
            }
            for name in doc_type.disclosable
        ],
    }


_DESCRIPTION = Label(
    "{title} trong Ví công dân: người giữ chọn từng thông tin để cho xem.",
    "{title} in the Citizen Wallet: the holder chooses each piece of information shown.",
)


def _text(label: Label, locale: str) -> str:
    return label.vi if locale == "vi" else label.en


def _text_colour(background: str) -> str:
    """Dark text on a light card, white on a dark one (the brighter contrast of the two)."""
    channels = [int(background[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with white, 1.05 / (L + 0.05), beats contrast with #1a1a1a (L = 0.0103),
    # (L + 0.05) / 0.0603, below L = 0.20.
    return _LIGHT_TEXT if luminance < 0.20 else _DARK_TEXT


@dataclass(frozen=True)
class TypeMetadataDocument:
    """The bytes served for one ``vct``, with their strong ETag (the same for every process)."""

    body: bytes
    etag: str


@functools.cache
def _documents() -> dict[str, TypeMetadataDocument]:
    """Each type's document by the path of its ``vct``; made once, as the plugins do not change."""
    out: dict[str, TypeMetadataDocument] = {}
    for doc_type in all_types():
        body = msgspec.json.encode(type_metadata(doc_type))
        digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
        out[urlsplit(doc_type.vct).path] = TypeMetadataDocument(body, f'"{digest}"')
    return out


def type_metadata_at(path: str) -> TypeMetadataDocument | None:
    """The document whose ``vct`` has this path (``/credentials/<type>/v<n>``), if any."""
    return _documents().get(path)
