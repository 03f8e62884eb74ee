"""The machine-readable zone of a chip ID card (ICAO Doc 9303 part 5, TD1: 3 x 30 characters).

Vietnam's chip ID card (Căn cước công dân gắn chip) puts the last nine digits of the
12-digit personal identification number in the document-number field and the whole
number at the start of the optional data of line 1. Names are upper-case Latin without
diacritics, family name first: ``NGUYEN<<THI<HONG<NHUNG``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from wallet_api.accounts.names import normalise_name

__all__ = ["Mrz", "MrzError", "check_digit", "format_td1", "parse_td1"]

_LINE = 30
_WEIGHTS = (7, 3, 1)


class MrzError(ValueError):
    """The zone is not a well-formed TD1 or one of its check digits is wrong."""


@dataclass(frozen=True, slots=True)
class Mrz:
    document_number: str
    person_id: str
    date_of_birth: date
    sex: str  # "M", "F" or "<"
    expiry: date
    nationality: str
    name: str  # "NGUYEN THI HONG NHUNG"


#: Each MRZ character's value in check digits: digits, A=10 .. Z=35, filler "<" = 0.
_VALUES = {ch: i for i, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")} | {"<": 0}
_ALPHABET = re.compile(r"^[0-9A-Z<]*$")


def check_digit(field: str) -> str:
    if not _ALPHABET.match(field):
        raise MrzError("character outside the MRZ alphabet")
    return str(sum(_VALUES[ch] * _WEIGHTS[i % 3] for i, ch in enumerate(field)) % 10)


def _yymmdd(raw: str, *, future: bool) -> date:
    if not raw.isdigit():
        raise MrzError("a date is not six digits")
    yy, mm, dd = int(raw[:2]), int(raw[2:4]), int(raw[4:])
    # Birth dates are in the past, expiry dates up to a few decades ahead.
    today = date.today()
    century = 2000 if (future or 2000 + yy <= today.year) else 1900
    try:
        return date(century + yy, mm, dd)
    except ValueError as exc:
        raise MrzError("a date does not exist") from exc


def _field(raw: str) -> str:
    return raw.rstrip("<")


def parse_td1(mrz: str) -> Mrz:
    text = mrz.replace("\n", "")
    if len(text) != 3 * _LINE or not _ALPHABET.match(text):
        raise MrzError("a TD1 zone has three lines of 30 MRZ characters")
    l1, l2, l3 = text[:_LINE], text[_LINE : 2 * _LINE], text[2 * _LINE :]
    number, optional1 = l1[5:14], l1[15:30]
    born, sex, expiry, nationality = l2[0:6], l2[7], l2[8:14], l2[15:18]
    checks = ((number, l1[14]), (born, l2[6]), (expiry, l2[14]))
    for field, digit in checks:
        if check_digit(field) != digit:
            raise MrzError("a check digit is wrong")
    composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    if check_digit(composite) != l2[29]:
        raise MrzError("the composite check digit is wrong")
    person_id = optional1[:12]
    if not person_id.isdigit() or not person_id.endswith(_field(number)):
        raise MrzError("the optional data does not carry the 12-digit ID number")
    surname, _, given = l3.partition("<<")
    name = " ".join(part for part in (surname + "<" + given).split("<") if part)
    return Mrz(
        document_number=_field(number),
        person_id=person_id,
        date_of_birth=_yymmdd(born, future=False),
        sex=sex,
        expiry=_yymmdd(expiry, future=True),
        nationality=nationality,
        name=name,
    )


def format_td1(*, person_id: str, date_of_birth: date, sex: str, expiry: date, name: str) -> str:
    """The TD1 zone of a Vietnamese chip ID card (used by the development chip maker)."""
    number = person_id[-9:]
    l1 = ("IDVNM" + number + check_digit(number) + person_id).ljust(_LINE, "<")
    born, until = date_of_birth.strftime("%y%m%d"), expiry.strftime("%y%m%d")
    head = born + check_digit(born) + sex + until + check_digit(until) + "VNM"
    optional2 = "<" * 11
    composite = l1[5:30] + born + check_digit(born) + until + check_digit(until) + optional2
    l2 = head + optional2 + check_digit(composite)
    family, _, given = normalise_name(name).upper().partition(" ")
    l3 = (family + "<<" + given.replace(" ", "<")).ljust(_LINE, "<")[:_LINE]
    return l1 + l2 + l3
