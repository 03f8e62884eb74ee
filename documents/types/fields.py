"""Field types and rules shared by several document types (ID numbers, plates, names, dates)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterator
from typing import Annotated, Literal

from msgspec import Meta

from documents.types.base import FieldError

__all__ = [
    "MAX_PORTRAIT_BYTES",
    "IdNumber",
    "Name",
    "Plate",
    "Portrait",
    "Sex",
    "ShortText",
    "SocialInsuranceNumber",
    "Text",
    "check_id_number",
    "check_order",
    "check_plate",
    "check_portrait",
]

IdNumber = Annotated[str, Meta(pattern=r"^[0-9]{12}$", description="Personal identification number (12 digits)")]
SocialInsuranceNumber = Annotated[str, Meta(pattern=r"^[0-9]{10}$", description="Social-insurance number (10 digits)")]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
ShortText = Annotated[str, Meta(min_length=1, max_length=60)]
Text = Annotated[str, Meta(min_length=1, max_length=250)]
Sex = Literal["male", "female"]

#: The holder's portrait as a verifier sees it beside the name: a JPEG or PNG of at most
#: 16 KiB (an ICAO 9303 chip's facial image is of that order), as a ``data:`` URI so that a
#: page shows it under a CSP that allows no other origin. Far larger than an offline QR code
#: holds (600 characters): a portrait is shown on online verification only.
MAX_PORTRAIT_BYTES = 16 * 1024
_PORTRAIT_MEDIA = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
Portrait = Annotated[
    str,
    Meta(
        pattern=r"^data:image/(jpeg|png);base64,[A-Za-z0-9+/]+={0,2}$",
        max_length=len("data:image/jpeg;base64,") + 4 * -(-MAX_PORTRAIT_BYTES // 3),
        description="The holder's portrait: a JPEG or PNG of at most 16 KiB as a base64 data: URI",
    ),
]

# Vietnamese plates: 2-digit province code, series (1–2 letters, motorbikes add a digit),
# then either the 5-digit "123.45" form or the older 4-digit form.
_PLATE = re.compile(r"^(?P<province>[0-9]{2})(?P<series>[A-Z]{1,2}|[A-Z][0-9])-(?:[0-9]{3}\.[0-9]{2}|[0-9]{4})$")
Plate = Annotated[str, Meta(pattern=_PLATE.pattern, description="Plate number, e.g. 30A-123.45")]


def check_plate(name: str, plate: str) -> Iterator[FieldError]:
    m = _PLATE.match(plate)
    if m is None:
        yield FieldError(name, "is not a Vietnamese plate number (e.g. 30A-123.45)")
        return
    # Province codes on plates run from 11 to 99; 10 and below are unassigned.
    if int(m["province"]) < 11:
        yield FieldError(name, "has no province with this code")


def check_id_number(name: str, number: str, date_of_birth: dt.date, sex: str | None = None) -> Iterator[FieldError]:
    """Digit 4 encodes the century (and sex), digits 5–6 the year of birth: both must agree."""
    century_digit = int(number[3])
    century = 1900 + 100 * (century_digit // 2)
    if century + int(number[4:6]) != date_of_birth.year:
        yield FieldError(name, "does not agree with the date of birth")
    if sex is not None and ("female" if century_digit % 2 else "male") != sex:
        yield FieldError(name, "does not agree with the sex")


def check_order(first: str, start: dt.date | None, second: str, end: dt.date | None) -> Iterator[FieldError]:
    if start is not None and end is not None and end < start:
        yield FieldError(second, f"is before {first}")


def check_portrait(name: str, portrait: str | None) -> Iterator[FieldError]:
    """The picture is what its media type says, and no larger than :data:`MAX_PORTRAIT_BYTES`."""
    if portrait is None:
        return
    media, _, data = portrait.removeprefix("data:").partition(";base64,")
    try:
        image = base64.b64decode(data, validate=True)
    except binascii.Error:
        yield FieldError(name, "is not valid base64")
        return
    if len(image) > MAX_PORTRAIT_BYTES:
        yield FieldError(name, f"is larger than {MAX_PORTRAIT_BYTES} bytes")
    elif not image.startswith(_PORTRAIT_MEDIA.get(media, b"-")):
        yield FieldError(name, f"is not a {media.removeprefix('image/').upper()} image")
