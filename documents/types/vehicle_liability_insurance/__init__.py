"""Compulsory vehicle civil-liability insurance (bảo hiểm TNDS bắt buộc), from licensed insurers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from documents.types.base import CardLayout, DocumentType, FieldError, Label
from documents.types.fields import Name, Plate, Text, check_order, check_plate

__all__ = ["DOCUMENT_TYPE", "VehicleLiabilityInsurance"]


class VehicleLiabilityInsurance(msgspec.Struct, forbid_unknown_fields=True):
    policy_number: Annotated[str, Meta(pattern=r"^[A-Za-z0-9/.-]{4,40}$")]
    insurer: Text
    plate: Plate
    owner_name: Name
    vehicle_kind: Literal["car", "motorbike", "truck", "bus", "trailer", "other"]
    valid_from: dt.date
    valid_until: dt.date
    #: Passengers covered by the optional accident cover, if bought with the policy.
    passenger_cover: bool = False


def _check(policy: VehicleLiabilityInsurance) -> Iterator[FieldError]:
    yield from check_plate("plate", policy.plate)
    yield from check_order("valid_from", policy.valid_from, "valid_until", policy.valid_until)
    # Compulsory policies run for one to three years.
    if (policy.valid_until - policy.valid_from).days > 3 * 366:
        yield FieldError("valid_until", "a compulsory policy runs for at most three years")


DOCUMENT_TYPE = DocumentType(
    code="vehicle_liability_insurance",
    title=Label("Bảo hiểm TNDS bắt buộc", "Vehicle civil-liability insurance"),
    schema=VehicleLiabilityInsurance,
    labels={
        "policy_number": Label("Số giấy chứng nhận", "Policy number"),
        "insurer": Label("Doanh nghiệp bảo hiểm", "Insurer"),
        "plate": Label("Biển kiểm soát", "Plate number"),
        "owner_name": Label("Chủ xe", "Vehicle owner"),
        "vehicle_kind": Label("Loại xe", "Vehicle kind"),
        "valid_from": Label("Hiệu lực từ", "Valid from"),
        "valid_until": Label("Đến", "Valid until"),
        "passenger_cover": Label("Bảo hiểm người ngồi trên xe", "Passenger cover"),
    },
    card=CardLayout(
        colour="#fdf1dc",
        headline="plate",
        face=("insurer", "policy_number", "valid_until"),
        back=("owner_name", "vehicle_kind", "valid_from", "passenger_cover"),
    ),
    valid_from_field="valid_from",
    valid_until_field="valid_until",
    groups=(frozenset({"policy_number", "insurer"}),),
    offline_keys={
        "policy_number": 1,
        "insurer": 2,
        "plate": 3,
        "owner_name": 4,
        "vehicle_kind": 5,
        "valid_from": 6,
        "valid_until": 7,
        "passenger_cover": 8,
    },
    check=_check,
    holder_claims={"owner_name": "full_name"},
)
