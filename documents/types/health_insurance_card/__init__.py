"""Health-insurance card (thẻ bảo hiểm y tế, BHYT), issued by Vietnam Social Security."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

import msgspec
from msgspec import Meta

from documents.types.base import DERIVED_AGE_OVER_18, CardLayout, DocumentType, FieldError, Label
from documents.types.fields import Name, Sex, SocialInsuranceNumber, Text, check_order

__all__ = ["DOCUMENT_TYPE", "HealthInsuranceCard"]


class HealthInsuranceCard(msgspec.Struct, forbid_unknown_fields=True):
    #: The card number is the holder's 10-digit social-insurance number.
    card_number: SocialInsuranceNumber
    full_name: Name
    date_of_birth: dt.date
    sex: Sex
    #: Benefit level 1–5 (the share of costs the fund pays, set by the holder's group).
    benefit_level: Annotated[int, Meta(ge=1, le=5)]
    primary_care_facility: Text
    primary_care_facility_code: Annotated[str, Meta(pattern=r"^[0-9]{5}$")]
    valid_from: dt.date
    valid_until: dt.date
    #: Date from which five consecutive years of participation are reached (higher benefits).
    five_years_from: dt.date | None = None


def _check(card: HealthInsuranceCard) -> Iterator[FieldError]:
    yield from check_order("valid_from", card.valid_from, "valid_until", card.valid_until)
    yield from check_order("date_of_birth", card.date_of_birth, "valid_from", card.valid_from)


DOCUMENT_TYPE = DocumentType(
    code="health_insurance_card",
    title=Label("Thẻ bảo hiểm y tế", "Health-insurance card"),
    schema=HealthInsuranceCard,
    labels={
        "card_number": Label("Mã số BHXH", "Card number"),
        "full_name": Label("Họ và tên", "Full name"),
        "date_of_birth": Label("Ngày sinh", "Date of birth"),
        "sex": Label("Giới tính", "Sex"),
        "benefit_level": Label("Mức hưởng", "Benefit level"),
        "primary_care_facility": Label("Nơi đăng ký KCB ban đầu", "Primary-care facility"),
        "primary_care_facility_code": Label("Mã nơi đăng ký KCB", "Primary-care facility code"),
        "valid_from": Label("Giá trị sử dụng từ", "Valid from"),
        "valid_until": Label("Đến ngày", "Valid until"),
        "five_years_from": Label("Thời điểm đủ 5 năm liên tục", "Five continuous years from"),
    },
    card=CardLayout(
        colour="#dff3f1",
        headline="full_name",
        face=("card_number", "date_of_birth", "sex", "benefit_level", "valid_until"),
        back=("primary_care_facility", "primary_care_facility_code", "valid_from", "five_years_from"),
    ),
    valid_from_field="valid_from",
    valid_until_field="valid_until",
    groups=(frozenset({"primary_care_facility", "primary_care_facility_code"}),),
    derived=(DERIVED_AGE_OVER_18,),
    offline_keys={
        "card_number": 1,
        "full_name": 2,
        "date_of_birth": 3,
        "sex": 4,
        "benefit_level": 5,
        "primary_care_facility": 6,
        "primary_care_facility_code": 7,
        "valid_from": 8,
        "valid_until": 9,
        "five_years_from": 10,
        DERIVED_AGE_OVER_18: 11,
    },
    check=_check,
    holder_claims={"full_name": "full_name", "date_of_birth": "date_of_birth"},
)
