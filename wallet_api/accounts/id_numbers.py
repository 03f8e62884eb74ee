"""Personal identification numbers (số định danh cá nhân): the 12-digit number on the chip ID card.

Layout::

    PPP S YY NNNNNN
    │   │ │  └── six random digits
    │   │ └───── last two digits of the birth year
    │   └─────── sex and century: 0/1 male/female born 1900–1999, 2/3 born 2000–2099, 4/5 2100–2199 …
    └─────────── province code where the birth was registered (Circular 07/2016/TT-BCA, ``provinces.csv``)

A number whose century or year digits disagree with the recorded date of birth (or whose sex
digit disagrees with the recorded sex) is invalid. Province codes are data, not constants:
all 63 live in ``provinces.csv`` next to this module.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

__all__ = [
    "InvalidIdNumber",
    "PersonalId",
    "Province",
    "Sex",
    "check_consistent",
    "is_valid",
    "make",
    "parse",
    "provinces",
]

Sex = Literal["male", "female"]

#: The first century the sex/century digit can express (digit 0 or 1).
_FIRST_CENTURY = 1900


class InvalidIdNumber(ValueError):
    """The number is malformed or disagrees with the person's recorded details."""


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name: str
    #: One of the six provinces of the 2024 social-welfare payment pilot.
    welfare_pilot: bool
    #: Approximate population in thousands (2019 census), used to spread synthetic people.
    population_thousands: int


@dataclass(frozen=True, slots=True)
class PersonalId:
    number: str
    province_code: str
    sex: Sex
    #: First year of the century of birth (1900, 2000, …).
    century: int
    #: Last two digits of the birth year.
    year_digits: int
    serial: str

    def birth_year_matches(self, year: int) -> bool:
        return self.century <= year < self.century + 100 and year % 100 == self.year_digits


@cache
def provinces() -> dict[str, Province]:
    """The 63 province codes of birth registration, keyed by 3-digit code."""
    text = resources.files(__package__).joinpath("provinces.csv").read_text(encoding="utf-8")
    return {
        row["code"]: Province(
            code=row["code"],
            name=row["name"],
            welfare_pilot=row["welfare_pilot"] == "1",
            population_thousands=int(row["population_thousands"]),
        )
        for row in csv.DictReader(text.splitlines())
    }


def parse(number: str) -> PersonalId:
    """Split a number into its parts; raises :class:`InvalidIdNumber` if it is malformed."""
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        raise InvalidIdNumber("an ID number is exactly 12 digits")
    province = number[:3]
    if province not in provinces():
        raise InvalidIdNumber("unknown province code")
    code = int(number[3])
    return PersonalId(
        number=number,
        province_code=province,
        sex="female" if code % 2 else "male",
        century=_FIRST_CENTURY + 100 * (code // 2),
        year_digits=int(number[4:6]),
        serial=number[6:],
    )


def check_consistent(number: str, date_of_birth: date, sex: Sex | None = None) -> PersonalId:
    """Parse ``number`` and check it against a recorded birth date (and sex, if given)."""
    pid = parse(number)
    if not pid.birth_year_matches(date_of_birth.year):
        raise InvalidIdNumber("the century or year digits disagree with the date of birth")
    if sex is not None and pid.sex != sex:
        raise InvalidIdNumber("the sex digit disagrees with the recorded sex")
    return pid


def is_valid(number: str, date_of_birth: date | None = None, sex: Sex | None = None) -> bool:
    try:
        if date_of_birth is None:
            parse(number)
        else:
            check_consistent(number, date_of_birth, sex)
    except InvalidIdNumber:
        return False
    return True


def make(province_code: str, sex: Sex, birth_year: int, serial: int) -> str:
    """Compose the number for a person; ``serial`` is the six random digits (0–999999)."""
    if province_code not in provinces():
        raise InvalidIdNumber("unknown province code")
    century_index = (birth_year - _FIRST_CENTURY) // 100
    if not 0 <= century_index <= 4:
        raise InvalidIdNumber("birth year outside the years an ID number can express")
    if not 0 <= serial <= 999_999:
        raise InvalidIdNumber("the serial is six digits")
    code = 2 * century_index + (1 if sex == "female" else 0)
    return f"{province_code}{code}{birth_year % 100:02d}{serial:06d}"
