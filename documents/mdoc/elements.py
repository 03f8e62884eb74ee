"""Our driving licence as mDL data elements (ISO/IEC 18013-5 §7.2.1) and Vietnamese ones.

``org.iso.18013.5.1`` holds what ISO defines. Names: a Vietnamese full name is family name,
then middle names, then the given name ("Nguyễn Văn Hùng"); as ICAO 9303 does for
Vietnamese passports, ``family_name`` is the first word and ``given_name`` the rest
("Văn Hùng": the middle name is part of how a person is called). ISO restricts those two
to Latin-1, so they carry the name without diacritics (đ → d, as the passport's MRZ does),
and ``family_name_national_character`` / ``given_name_national_character`` carry it as
written. Licence classes become ``driving_privileges`` with our class codes: the 2025
classes follow the Vienna Convention categories ISO uses, and D2, D2E and the older classes
(A2, A3, A4, B2, E, F) are national codes a verifier reads in our type metadata. A licence
whose classes never expire has no ``expiry_date`` (ISO would want one; we do not invent it).

:data:`VN_NAMESPACE` (``vn.citizenwallet.1``, the reverse of the domain our credential
types are named under) holds what ISO has no element for: the full name as printed, the
nationality as written, and the licence points of the 2024 road-traffic law.
"""

from __future__ import annotations

import base64
import datetime as dt
import unicodedata
from collections.abc import Mapping
from typing import Any

import msgspec

from documents.mdoc.cbor import full_date
from documents.types import DERIVED_AGE_OVER_18
from documents.types.driving_licence import DrivingLicence

__all__ = ["MDL_DOCTYPE", "MDL_NAMESPACE", "VN_NAMESPACE", "licence_elements", "split_name"]

MDL_DOCTYPE = "org.iso.18013.5.1.mDL"
MDL_NAMESPACE = "org.iso.18013.5.1"
VN_NAMESPACE = "vn.citizenwallet.1"
COUNTRY = "VN"
_NATIONALITY_CODES = {"việt nam": "VN", "viet nam": "VN", "vietnam": "VN"}
_LETTERS = str.maketrans({"đ": "d", "Đ": "D"})


def latin(text: str) -> str:
    """``text`` without diacritics (ICAO 9303 transliteration of Vietnamese), spacing tidied."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", text.translate(_LETTERS)) if not unicodedata.combining(ch))
    return " ".join(bare.split())


def split_name(full_name: str) -> tuple[str, str]:
    """(family name, given names): the first word, and the middle and given names after it."""
    words = full_name.split()
    return (words[0] if words else ""), " ".join(words[1:])


def _portrait_bytes(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1], validate=True)


def licence_elements(claims: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The data elements per namespace of a driving licence's claims (``age_over_18`` included
    when the caller derived it, as the SD-JWT VC does: only once true)."""
    lic = msgspec.convert({k: v for k, v in claims.items() if k != DERIVED_AGE_OVER_18}, DrivingLicence)
    family, given = split_name(lic.full_name)
    mdl: dict[str, Any] = {
        "family_name": latin(family),
        "given_name": latin(given),
        "family_name_national_character": family,
        "given_name_national_character": given,
        "birth_date": full_date(lic.date_of_birth),
        "issue_date": full_date(lic.issue_date),
        "issuing_country": COUNTRY,
        "issuing_authority": latin(lic.issuing_authority),
        "document_number": lic.licence_number,
        "driving_privileges": [_privilege(c.code, c.issue_date, c.expiry_date) for c in lic.classes],
        "un_distinguishing_sign": COUNTRY,
        "resident_address": lic.place_of_residence,
        "resident_country": COUNTRY,
    }
    if lic.expiry_date is not None:
        mdl["expiry_date"] = full_date(lic.expiry_date)
    if lic.portrait is not None:
        mdl["portrait"] = _portrait_bytes(lic.portrait)
    nationality = _NATIONALITY_CODES.get(" ".join(lic.nationality.casefold().split()))
    if nationality is not None:
        mdl["nationality"] = nationality
    if claims.get(DERIVED_AGE_OVER_18) is True:
        mdl["age_over_18"] = True
    vn: dict[str, Any] = {
        "full_name": lic.full_name,
        "nationality": lic.nationality,
        "issuing_authority": lic.issuing_authority,
        "points": lic.points,
    }
    return {MDL_NAMESPACE: mdl, VN_NAMESPACE: vn}


def _privilege(code: str, issued: dt.date, expires: dt.date | None) -> dict[str, Any]:
    privilege: dict[str, Any] = {"vehicle_category_code": code, "issue_date": full_date(issued)}
    if expires is not None:
        privilege["expiry_date"] = full_date(expires)
    return privilege
