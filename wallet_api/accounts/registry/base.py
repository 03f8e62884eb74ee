"""What we read from the population registry about one person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

__all__ = ["Person", "PopulationRegistry", "RegistryUnavailable"]


class RegistryUnavailable(Exception):
    """The registry did not answer; the caller should ask the citizen to try again later."""


@dataclass(frozen=True, slots=True)
class Person:
    person_id: str
    full_name: str
    date_of_birth: date
    sex: Literal["male", "female"]
    place_of_origin: str
    residence_address: str
    residence_province: str
    status: Literal["alive", "deceased"]
    died_on: date | None = None
    father_id: str | None = None
    mother_id: str | None = None

    @property
    def deceased(self) -> bool:
        return self.status == "deceased"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @classmethod
    def from_mapping(cls, row: Any) -> Person:
        def _date(value: Any) -> date | None:
            if value is None or isinstance(value, date):
                return value
            return date.fromisoformat(str(value))

        born = _date(row["date_of_birth"])
        assert born is not None
        return cls(
            person_id=str(row["person_id"]),
            full_name=str(row["full_name"]),
            date_of_birth=born,
            sex=row["sex"],
            place_of_origin=str(row["place_of_origin"]),
            residence_address=str(row["residence_address"]),
            residence_province=str(row["residence_province"]),
            status=row["status"],
            died_on=_date(row["died_on"]),
            father_id=row["father_id"],
            mother_id=row["mother_id"],
        )


class PopulationRegistry(Protocol):
    async def lookup(self, person_id: str) -> Person | None:
        """The person with this 12-digit number, or None if the registry has no such person."""
        ...

    async def children_of(self, person_id: str) -> list[Person]:
        """People whose father or mother is ``person_id``."""
        ...

    async def lookup_many(self, person_ids: Sequence[str]) -> dict[str, Person]:
        """The people the registry has among ``person_ids`` (bulk issuing asks for thousands at once)."""
        ...
