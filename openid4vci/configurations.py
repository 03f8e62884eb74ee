"""The credential configurations the issuer offers, generated from the document-type plugins.

Every document type is offered as an SD-JWT VC (``<type>_sd_jwt``, format ``dc+sd-jwt``, its
``vct``); the driving licence also as an ISO mdoc (``driving_licence_mdoc``) once an mdoc
minter is available. A ``credential_configuration_id`` names a configuration; a
``credential_identifier`` (token response) names one document of the holder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from documents.types import DocumentType, all_types, get_type

__all__ = [
    "MDOC_CONFIGURATION",
    "MDOC_DOCTYPE",
    "SD_JWT",
    "Configuration",
    "configuration",
    "configurations_metadata",
    "sd_jwt_configuration_id",
]

SD_JWT = "dc+sd-jwt"
MSO_MDOC = "mso_mdoc"
MDOC_CONFIGURATION = "driving_licence_mdoc"
MDOC_DOCTYPE = "org.iso.18013.5.1.mDL"
_MDOC_NAMESPACE = "org.iso.18013.5.1"
#: ES256; COSE's number for it in mdoc metadata.
_COSE_ES256 = -7


@dataclass(frozen=True, slots=True)
class Configuration:
    id: str
    format: str
    doc_type: DocumentType


def sd_jwt_configuration_id(doc_type: str) -> str:
    return f"{doc_type}_sd_jwt"


def configuration(configuration_id: str, *, mdoc: bool) -> Configuration | None:
    """The configuration of that id, or None (``mdoc``: whether mdocs can be minted here)."""
    if configuration_id == MDOC_CONFIGURATION:
        licence = get_type("driving_licence")
        return Configuration(MDOC_CONFIGURATION, MSO_MDOC, licence) if mdoc and licence is not None else None
    code = configuration_id.removesuffix("_sd_jwt")
    doc_type = get_type(code) if code != configuration_id else None
    return Configuration(configuration_id, SD_JWT, doc_type) if doc_type is not None else None


def _display(doc_type: DocumentType) -> list[dict[str, Any]]:
    colour = doc_type.card.colour
    return [
        {"name": doc_type.title.vi, "locale": "vi", "background_color": colour, "text_color": "#FFFFFF"},
        {"name": doc_type.title.en, "locale": "en", "background_color": colour, "text_color": "#FFFFFF"},
    ]


def _claims(doc_type: DocumentType, prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [
        {
            "path": [*prefix, name],
            "display": [
                {"name": doc_type.label(name).vi, "locale": "vi"},
                {"name": doc_type.label(name).en, "locale": "en"},
            ],
        }
        for name in doc_type.disclosable
    ]


def configurations_metadata(*, mdoc: bool) -> dict[str, Any]:
    """``credential_configurations_supported`` of the issuer metadata."""
    proof_types = {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}
    supported: dict[str, Any] = {}
    for doc_type in all_types():
        supported[sd_jwt_configuration_id(doc_type.code)] = {
            "format": SD_JWT,
            "vct": doc_type.vct,
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": ["ES256"],
            "proof_types_supported": proof_types,
            "credential_metadata": {"display": _display(doc_type), "claims": _claims(doc_type)},
        }
    licence = get_type("driving_licence")
    if mdoc and licence is not None:
        supported[MDOC_CONFIGURATION] = {
            "format": MSO_MDOC,
            "doctype": MDOC_DOCTYPE,
            "cryptographic_binding_methods_supported": ["cose_key"],
            "credential_signing_alg_values_supported": [_COSE_ES256],
            "proof_types_supported": proof_types,
            "credential_metadata": {"display": _display(licence), "claims": _claims(licence, (_MDOC_NAMESPACE,))},
        }
    return supported
