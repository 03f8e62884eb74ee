"""Chip ID card (thẻ căn cước), issued by the police (C06)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import msgspec

from documents.types.base import DERIVED_AGE_OVER_18, CardLayout, DocumentType, FieldError, Label
from documents.types.fields import (
    IdNumber,
    Name,
    Portrait,
    Sex,
    ShortText,
    Text,
    check_id_number,
    check_order,
    check_portrait,
)

__all__ = ["DOCUMENT_TYPE", "ChipIdCard"]


class ChipIdCard(msgspec.Struct, forbid_unknown_fields=True):
    id_number: IdNumber
    full_name: Name
    date_of_birth: dt.date
    sex: Sex
    nationality: ShortText
    place_of_origin: Text
    place_of_residence: Text
    issue_date: dt.date
    #: Cards issued after the holder's 60th birthday never expire.
    expiry_date: dt.date | None = None
    photo_ref: Text | None = None
    portrait: Portrait | None = None


def _check(card: ChipIdCard) -> Iterator[FieldError]:
    yield from check_id_number("id_number", card.id_number, card.date_of_birth, card.sex)
    yield from check_order("date_of_birth", card.date_of_birth, "issue_date", card.issue_date)
    yield from check_order("issue_date", card.issue_date, "expiry_date", card.expiry_date)
    yield from check_portrait("portrait", card.portrait)


DOCUMENT_TYPE = DocumentType(
    code="chip_id_card",
    title=Label("Thẻ căn cước", "Chip ID card"),
    schema=ChipIdCard,
    labels={
        "id_number": Label("Số định danh cá nhân", "Personal identification number"),
        "full_name": Label("Họ, chữ đệm và tên", "Full name"),
        "date_of_birth": Label("Ngày, tháng, năm sinh", "Date of birth"),
        "sex": Label("Giới tính", "Sex"),
        "nationality": Label("Quốc tịch", "Nationality"),
        "place_of_origin": Label("Quê quán", "Place of origin"),
        "place_of_residence": Label("Nơi thường trú", "Place of residence"),
        "issue_date": Label("Ngày cấp", "Date of issue"),
        "expiry_date": Label("Có giá trị đến", "Date of expiry"),
        "photo_ref": Label("Ảnh chân dung", "Photograph"),
        "portrait": Label("Hình chân dung", "Portrait"),
    },
    card=CardLayout(
        colour="#1f4e9c",
        headline="full_name",
        face=("id_number", "date_of_birth", "sex", "nationality", "expiry_date"),
        back=("place_of_origin", "place_of_residence", "issue_date"),
        photo="photo_ref",
    ),
    valid_from_field="issue_date",
    valid_until_field="expiry_date",
    # Name and photo identify a person only together: one is never shown without the other.
    groups=(frozenset({"full_name", "photo_ref"}),),
    derived=(DERIVED_AGE_OVER_18,),
    offline_keys={
        "id_number": 1,
        "full_name": 2,
        "date_of_birth": 3,
        "sex": 4,
        "nationality": 5,
        "place_of_origin": 6,
        "place_of_residence": 7,
        "issue_date": 8,
        "expiry_date": 9,
        "photo_ref": 10,
        DERIVED_AGE_OVER_18: 11,
        "portrait": 12,
    },
    check=_check,
    portrait="portrait",
    holder_claims={"id_number": "person_id", "full_name": "full_name", "date_of_birth": "date_of_birth"},
)
