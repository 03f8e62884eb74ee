"""Vehicle registration certificate (giấy chứng nhận đăng ký xe), issued by the traffic police."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from documents.types.base import CardLayout, DocumentType, FieldError, Label
from documents.types.fields import Name, Plate, ShortText, Text, check_order, check_plate

__all__ = ["DOCUMENT_TYPE", "VehicleRegistration"]

_SerialNumber = Annotated[str, Meta(pattern=r"^[A-Z0-9-]{5,25}$")]


class VehicleRegistration(msgspec.Struct, forbid_unknown_fields=True):
    plate: Plate
    owner_name: Name
    owner_address: Text
    vehicle_kind: Literal["car", "motorbike", "truck", "bus", "trailer", "other"]
    brand: ShortText
    model: ShortText
    colour: ShortText
    chassis_number: _SerialNumber
    engine_number: _SerialNumber
    registration_date: dt.date
    #: Registrations of some vehicles (imports on temporary admission) end on a date.
    expiry_date: dt.date | None = None
    seats: Annotated[int, Meta(ge=1, le=100)] | None = None


def _check(reg: VehicleRegistration) -> Iterator[FieldError]:
    yield from check_plate("plate", reg.plate)
    yield from check_order("registration_date", reg.registration_date, "expiry_date", reg.expiry_date)


DOCUMENT_TYPE = DocumentType(
    code="vehicle_registration",
    title=Label("Giấy chứng nhận đăng ký xe", "Vehicle registration"),
    schema=VehicleRegistration,
    labels={
        "plate": Label("Biển số", "Plate number"),
        "owner_name": Label("Tên chủ xe", "Owner"),
        "owner_address": Label("Địa chỉ", "Owner's address"),
        "vehicle_kind": Label("Loại xe", "Vehicle kind"),
        "brand": Label("Nhãn hiệu", "Brand"),
        "model": Label("Số loại", "Model"),
        "colour": Label("Màu sơn", "Colour"),
        "chassis_number": Label("Số khung", "Chassis number"),
        "engine_number": Label("Số máy", "Engine number"),
        "registration_date": Label("Ngày đăng ký", "Date of registration"),
        "expiry_date": Label("Có giá trị đến", "Valid until"),
        "seats": Label("Số chỗ ngồi", "Seats"),
    },
    card=CardLayout(
        colour="#e9f2e2",
        headline="plate",
        face=("owner_name", "brand", "model", "colour", "vehicle_kind"),
        back=("owner_address", "chassis_number", "engine_number", "registration_date", "seats"),
    ),
    valid_from_field="registration_date",
    valid_until_field="expiry_date",
    # A chassis number without the engine number (and the reverse) proves little: both or neither.
    groups=(frozenset({"chassis_number", "engine_number"}), frozenset({"brand", "model"})),
    offline_keys={
        "plate": 1,
        "owner_name": 2,
        "owner_address": 3,
        "vehicle_kind": 4,
        "brand": 5,
        "model": 6,
        "colour": 7,
        "chassis_number": 8,
        "engine_number": 9,
        "registration_date": 10,
        "expiry_date": 11,
        "seats": 12,
    },
    check=_check,
    holder_claims={"owner_name": "full_name"},
)
