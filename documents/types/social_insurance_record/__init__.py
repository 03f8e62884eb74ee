"""Social-insurance record (sổ bảo hiểm xã hội, BHXH), kept by Vietnam Social Security."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

import msgspec
from msgspec import Meta

from documents.types.base import CardLayout, DocumentType, FieldError, Label
from documents.types.fields import Name, SocialInsuranceNumber, Text, check_order

__all__ = ["DOCUMENT_TYPE", "ContributionPeriod", "SocialInsuranceRecord"]


class ContributionPeriod(msgspec.Struct, forbid_unknown_fields=True):
    start: dt.date
    end: dt.date | None
    employer: Text
    months: Annotated[int, Meta(ge=0, le=1200)]


class SocialInsuranceRecord(msgspec.Struct, forbid_unknown_fields=True):
    social_insurance_number: SocialInsuranceNumber
    full_name: Name
    date_of_birth: dt.date
    total_contribution_months: Annotated[int, Meta(ge=0, le=1200)]
    periods: Annotated[list[ContributionPeriod], Meta(max_length=100)]
    #: The day the summary was drawn from the fund's ledger.
    as_of: dt.date


def _check(record: SocialInsuranceRecord) -> Iterator[FieldError]:
    for i, period in enumerate(record.periods):
        yield from check_order(f"periods[{i}].start", period.start, f"periods[{i}].end", period.end)
    if sum(p.months for p in record.periods) > record.total_contribution_months:
        yield FieldError("total_contribution_months", "is less than the months of the periods")


DOCUMENT_TYPE = DocumentType(
    code="social_insurance_record",
    title=Label("Sổ bảo hiểm xã hội", "Social-insurance record"),
    schema=SocialInsuranceRecord,
    labels={
        "social_insurance_number": Label("Mã số BHXH", "Social-insurance number"),
        "full_name": Label("Họ và tên", "Full name"),
        "date_of_birth": Label("Ngày sinh", "Date of birth"),
        "total_contribution_months": Label("Tổng thời gian đóng (tháng)", "Months of contributions"),
        "periods": Label("Quá trình đóng", "Contribution periods"),
        "as_of": Label("Số liệu đến ngày", "As of"),
    },
    card=CardLayout(
        colour="#fbe4e4",
        headline="full_name",
        face=("social_insurance_number", "total_contribution_months", "as_of"),
        back=("date_of_birth", "periods"),
    ),
    valid_from_field="as_of",
    valid_until_field=None,
    offline_keys={
        "social_insurance_number": 1,
        "full_name": 2,
        "date_of_birth": 3,
        "total_contribution_months": 4,
        "periods": 5,
        "as_of": 6,
    },
    check=_check,
    holder_claims={"full_name": "full_name", "date_of_birth": "date_of_birth"},
)
