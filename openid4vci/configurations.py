"""The credential configurations the issuer offers, generated from the document-type plugins.

Every document type is offered as an SD-JWT VC (``<type>_sd_jwt``, format ``dc+sd-jwt``, its
``vct``); the driving licence also as an ISO mdoc (``driving_licence_mdoc``, format
``mso_mdoc``, doctype ``org.iso.18013.5.1.mDL``, minted by ``documents.mdoc``).

A ``credential_identifier`` (token response) names one document in one configuration: the
document id for its SD-JWT VC, ``<document id>:mdoc`` for its mdoc. OpenID4VCI 1.0 has the
wallet name either an identifier or a configuration, never both, so an identifier must say
the format by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from documents.mdoc import MDL_DOCTYPE, MDL_NAMESPACE, VN_NAMESPACE
from documents.types import DocumentType, all_types, get_type

__all__ = [
    "MDOC_CONFIGURATION",
    "MSO_MDOC",
    "SD_JWT",
    "Configuration",
    "configuration",
    "configurations_metadata",
    "configurations_of",
    "credential_identifier",
    "parse_identifier",
    "sd_jwt_configuration_id",
]

SD_JWT = "dc+sd-jwt"
MSO_MDOC = "mso_mdoc"
MDOC_CONFIGURATION = "driving_licence_mdoc"
_MDOC_TYPE = "driving_licence"
_MDOC_SUFFIX = ":mdoc"
#: ES256; COSE's number for it in mdoc metadata (OpenID4VCI 1.0 §A.2.2).
_COSE_ES256 = -7
#: The mDL elements we mint (documents/mdoc/elements.py), with their names for people.
_MDL_ELEMENTS = {
    "family_name": ("Họ", "Family name"),
    "given_name": ("Tên đệm và tên", "Given names"),
    "family_name_national_character": ("Họ (có dấu)", "Family name (national characters)"),
    "given_name_national_character": ("Tên đệm và tên (có dấu)", "Given names (national characters)"),
    "birth_date": ("Ngày sinh", "Date of birth"),
    "issue_date": ("Ngày cấp", "Date of issue"),
    "expiry_date": ("Có giá trị đến", "Date of expiry"),
    "issuing_country": ("Quốc gia cấp", "Issuing country"),
    "issuing_authority": ("Cơ quan cấp", "Issuing authority"),
    "document_number": ("Số giấy phép", "Licence number"),
    "driving_privileges": ("Hạng xe được lái", "Driving privileges"),
    "un_distinguishing_sign": ("Ký hiệu quốc gia", "Distinguishing sign"),
    "resident_address": ("Nơi cư trú", "Place of residence"),
    "resident_country": ("Quốc gia cư trú", "Country of residence"),
    "nationality": ("Quốc tịch", "Nationality"),
    "portrait": ("Ảnh chân dung", "Portrait"),
    "age_over_18": ("Từ đủ 18 tuổi", "Aged 18 or over"),
}
_VN_ELEMENTS = {
    "full_name": ("Họ và tên", "Full name"),
    "nationality": ("Quốc tịch (như ghi trên giấy)", "Nationality (as written)"),
    "issuing_authority": ("Cơ quan cấp (như ghi trên giấy)", "Issuing authority (as written)"),
    "points": ("Điểm giấy phép lái xe", "Licence points"),
}


@dataclass(frozen=True, slots=True)
class Configuration:
    id: str
    format: str
    doc_type: DocumentType


def sd_jwt_configuration_id(doc_type: str) -> str:
    return f"{doc_type}_sd_jwt"


def configuration(configuration_id: str) -> Configuration | None:
    """The configuration of that id, or None."""
    if configuration_id == MDOC_CONFIGURATION:
        licence = get_type(_MDOC_TYPE)
        return Configuration(MDOC_CONFIGURATION, MSO_MDOC, licence) if licence is not None else None
    code = configuration_id.removesuffix("_sd_jwt")
    doc_type = get_type(code) if code != configuration_id else None
    return Configuration(configuration_id, SD_JWT, doc_type) if doc_type is not None else None


def configurations_of(doc_type: str) -> list[str]:
    """The configurations a document of that type can be issued in."""
    return [sd_jwt_configuration_id(doc_type), *([MDOC_CONFIGURATION] if doc_type == _MDOC_TYPE else [])]


def credential_identifier(document_id: UUID, configuration_id: str) -> str:
    return f"{document_id}{_MDOC_SUFFIX}" if configuration_id == MDOC_CONFIGURATION else str(document_id)


def parse_identifier(identifier: str) -> tuple[UUID, bool] | None:
    """(document id, whether the mdoc is meant) of a credential identifier, or None."""
    mdoc = identifier.endswith(_MDOC_SUFFIX)
    try:
        return UUID(identifier.removesuffix(_MDOC_SUFFIX)), mdoc
    except ValueError:
        return None


def _display(doc_type: DocumentType) -> list[dict[str, Any]]:
    colour = doc_type.card.colour
    return [
        {"name": doc_type.title.vi, "locale": "vi", "background_color": colour, "text_color": "#FFFFFF"},
        {"name": doc_type.title.en, "locale": "en", "background_color": colour, "text_color": "#FFFFFF"},
    ]


def _claim(path: list[str], vi: str, en: str) -> dict[str, Any]:
    return {"path": path, "display": [{"name": vi, "locale": "vi"}, {"name": en, "locale": "en"}]}


def configurations_metadata() -> dict[str, Any]:
    """``credential_configurations_supported`` of the issuer metadata."""
    proof_types = {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}
    supported: dict[str, Any] = {}
    for doc_type in all_types():
        claims = [_claim([n], doc_type.label(n).vi, doc_type.label(n).en) for n in doc_type.disclosable]
        configuration_id = sd_jwt_configuration_id(doc_type.code)
        supported[configuration_id] = {
            "format": SD_JWT,
            # HAIP §4.1: a scope for every configuration (the authorization code flow asks by it).
            "scope": configuration_id,
            "vct": doc_type.vct,
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": ["ES256"],
            "proof_types_supported": proof_types,
            "credential_metadata": {"display": _display(doc_type), "claims": claims},
        }
    licence = get_type(_MDOC_TYPE)
    if licence is not None:
        claims = [_claim([MDL_NAMESPACE, e], vi, en) for e, (vi, en) in _MDL_ELEMENTS.items()]
        claims += [_claim([VN_NAMESPACE, e], vi, en) for e, (vi, en) in _VN_ELEMENTS.items()]
        supported[MDOC_CONFIGURATION] = {
            "format": MSO_MDOC,
            "scope": MDOC_CONFIGURATION,
            "doctype": MDL_DOCTYPE,
            "cryptographic_binding_methods_supported": ["cose_key"],
            "credential_signing_alg_values_supported": [_COSE_ES256],
            "proof_types_supported": proof_types,
            "credential_metadata": {"display": _display(licence), "claims": claims},
        }
    return supported
