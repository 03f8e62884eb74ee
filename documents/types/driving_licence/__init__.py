"""Driving licence (giấy phép lái xe), issued by the traffic police since 2025.

Licence classes are data (``classes.json``): the 2025 classes of the 2024 road-traffic law
and the older classes still printed on cards in circulation (A2, A3, A4, B2, E, F; codes
shared by both schemes follow the 2025 law), each saying whether it expires.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from importlib import resources
from typing import Annotated

import msgspec
from msgspec import Meta

from documents.types.base import DERIVED_AGE_OVER_18, CardLayout, DocumentType, FieldError, Label
from documents.types.fields import IdNumber, Name, Portrait, ShortText, Text, check_order, check_portrait

__all__ = ["DOCUMENT_TYPE", "LICENCE_CLASSES", "DrivingLicence", "LicenceClass"]

#: code -> {"never_expires": bool, "scheme": "2025" | "legacy", "vi": ..., "en": ...}
LICENCE_CLASSES: dict[str, dict[str, object]] = json.loads(
    resources.files(__package__).joinpath("classes.json").read_text(encoding="utf-8")
)


class LicenceClass(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9]{0,3}$")]
    issue_date: dt.date
    #: None for classes that never expire (A1, A, B1 under the 2024 law).
    expiry_date: dt.date | None = None


class DrivingLicence(msgspec.Struct, forbid_unknown_fields=True):
    licence_number: IdNumber
    full_name: Name
    date_of_birth: dt.date
    nationality: ShortText
    place_of_residence: Text
    classes: Annotated[list[LicenceClass], Meta(min_length=1, max_length=15)]
    issue_date: dt.date
    issuing_authority: Text
    #: Points left this year (12 a year under the 2024 road-traffic law).
    points: Annotated[int, Meta(ge=0, le=12)] = 12
    expiry_date: dt.date | None = None
    photo_ref: Text | None = None
    portrait: Portrait | None = None


def _check(lic: DrivingLicence) -> Iterator[FieldError]:
    yield from check_order("date_of_birth", lic.date_of_birth, "issue_date", lic.issue_date)
    yield from check_order("issue_date", lic.issue_date, "expiry_date", lic.expiry_date)
    yield from check_portrait("portrait", lic.portrait)
    seen: set[str] = set()
    for i, cls in enumerate(lic.classes):
        where = f"classes[{i}]"
        spec = LICENCE_CLASSES.get(cls.code)
        if spec is None:
            yield FieldError(f"{where}.code", f"{cls.code} is not a licence class")
            continue
        if cls.code in seen:
            yield FieldError(f"{where}.code", f"{cls.code} is listed twice")
        seen.add(cls.code)
        if spec["never_expires"] and cls.expiry_date is not None:
            yield FieldError(f"{where}.expiry_date", f"class {cls.code} never expires")
        if not spec["never_expires"] and cls.expiry_date is None:
            yield FieldError(f"{where}.expiry_date", f"class {cls.code} needs an expiry date")
        yield from check_order(f"{where}.issue_date", cls.issue_date, f"{where}.expiry_date", cls.expiry_date)


DOCUMENT_TYPE = DocumentType(
    code="driving_licence",
    title=Label("Giấy phép lái xe", "Driving licence"),
    schema=DrivingLicence,
    labels={
        "licence_number": Label("Số giấy phép", "Licence number"),
        "full_name": Label("Họ và tên", "Full name"),
        "date_of_birth": Label("Ngày sinh", "Date of birth"),
        "nationality": Label("Quốc tịch", "Nationality"),
        "place_of_residence": Label("Nơi cư trú", "Place of residence"),
        "classes": Label("Hạng", "Classes"),
        "issue_date": Label("Ngày cấp", "Date of issue"),
        "issuing_authority": Label("Cơ quan cấp", "Issuing authority"),
        "points": Label("Điểm giấy phép lái xe", "Licence points"),
        "expiry_date": Label("Có giá trị đến", "Valid until"),
        "photo_ref": Label("Ảnh", "Photograph"),
        "portrait": Label("Hình chân dung", "Portrait"),
    },
    card=CardLayout(
        colour="#c8e3f5",
        headline="full_name",
        face=("licence_number", "date_of_birth", "classes", "expiry_date"),
        back=("place_of_residence", "issue_date", "issuing_authority", "points"),
        photo="photo_ref",
    ),
    valid_from_field="issue_date",
    valid_until_field="expiry_date",
    groups=(frozenset({"full_name", "photo_ref"}),),
    derived=(DERIVED_AGE_OVER_18,),
    offline_keys={
        "licence_number": 1,
        "full_name": 2,
        "date_of_birth": 3,
        "nationality": 4,
        "place_of_residence": 5,
        "classes": 6,
        "issue_date": 7,
        "issuing_authority": 8,
        "points": 9,
        "expiry_date": 10,
        "photo_ref": 11,
        DERIVED_AGE_OVER_18: 12,
        "portrait": 13,
    },
    check=_check,
    portrait="portrait",
    holder_claims={"full_name": "full_name", "date_of_birth": "date_of_birth"},
)
