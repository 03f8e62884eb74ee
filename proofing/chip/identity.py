"""What a chip says about its holder: DG1's machine-readable zone, DG13's personal data, DG2's photo.

DG13 (Vietnam) is authoritative for the 12-digit number, the name with its diacritics and
the birth date; DG1 must agree with it (same number, birth date, and the MRZ name is the
name without diacritics, possibly cut at 30 characters).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date, datetime

from proofing.chip.asn1 import DG1, DG2, DG13
from proofing.chip.mrz import MrzError, parse_td1
from proofing.chip.parts import decoding, load_part
from proofing.chip.refusals import ChipRefused
from wallet_api.accounts.names import normalise_name

__all__ = ["DG13_FIELDS", "ChipIdentity", "chip_identity", "face_image"]

#: DG13 item numbers we read.
DG13_FIELDS = {"person_id": 1, "full_name": 2, "date_of_birth": 3, "sex": 4}


@dataclass(frozen=True, slots=True)
class ChipIdentity:
    person_id: str
    full_name: str
    date_of_birth: date
    document_number: str
    expiry: date


def _inconsistent(detail: str) -> ChipRefused:
    return ChipRefused("chip-data-inconsistent", detail)


def chip_identity(dg1: bytes, dg13: bytes) -> ChipIdentity:
    dg1_value = load_part(DG1, "dg1", dg1, whole=False)
    with decoding("dg1"):
        mrz_text = dg1_value["mrz"].native
    try:
        mrz = parse_td1(mrz_text)
    except MrzError as exc:
        raise ChipRefused("chip-data-malformed", f"DG1: {exc}.", part="dg1") from None
    items: dict[int, str] = {}
    dg13_value = load_part(DG13, "dg13", dg13, whole=False)
    with decoding("dg13"):
        for item in dg13_value:
            items.setdefault(item["index"].native, item["value"].native)
    try:
        person_id = items[DG13_FIELDS["person_id"]]
        full_name = items[DG13_FIELDS["full_name"]]
        born = datetime.strptime(items[DG13_FIELDS["date_of_birth"]], "%d/%m/%Y").date()
    except (KeyError, ValueError):
        raise ChipRefused("chip-data-malformed", "DG13 lacks the number, name or birth date.", part="dg13") from None
    if not (len(person_id) == 12 and person_id.isdigit()):
        raise ChipRefused("chip-data-malformed", "DG13's ID number is not 12 digits.", part="dg13")
    if mrz.person_id != person_id or mrz.date_of_birth != born:
        raise _inconsistent("DG1 and DG13 name different people.")
    if not normalise_name(full_name).replace(" ", "").upper().startswith(mrz.name.replace(" ", "")):
        raise _inconsistent("DG1's name is not DG13's.")
    return ChipIdentity(person_id, full_name, born, mrz.document_number, mrz.expiry)


# ISO/IEC 19794-5 facial record: general header (14 bytes), then one facial record whose
# information block (20 bytes) is followed by 8 bytes per feature point and the image
# information (12 bytes), then the image itself.
_GENERAL_HEADER = struct.Struct(">4s4sIH")
_FACIAL_INFO = struct.Struct(">IH")
_FACIAL_INFO_SIZE, _FEATURE_POINT_SIZE, _IMAGE_INFO_SIZE = 20, 8, 12


def face_image(dg2: bytes) -> bytes:
    """The portrait (JPEG or JPEG 2000 bytes) stored in DG2."""
    dg2_value = load_part(DG2, "dg2", dg2, whole=False)
    with decoding("dg2"):
        record = dg2_value["group"]["template"]["data"].native
    try:
        magic, _version, length, faces = _GENERAL_HEADER.unpack_from(record, 0)
        block_length, points = _FACIAL_INFO.unpack_from(record, _GENERAL_HEADER.size)
    except struct.error:
        raise ChipRefused("chip-data-truncated", "DG2's face record is cut short.", part="dg2") from None
    if magic != b"FAC\x00" or faces < 1 or length != len(record):
        raise ChipRefused("chip-data-malformed", "DG2 does not hold an ISO/IEC 19794-5 face record.", part="dg2")
    start = _GENERAL_HEADER.size + _FACIAL_INFO_SIZE + points * _FEATURE_POINT_SIZE + _IMAGE_INFO_SIZE
    end = _GENERAL_HEADER.size + block_length
    if not start < end <= len(record):
        raise ChipRefused("chip-data-truncated", "DG2's face record is cut short.", part="dg2")
    return bytes(record[start:end])
