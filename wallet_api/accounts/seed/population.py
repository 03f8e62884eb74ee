"""Synthetic people for the local population registry, loaded with COPY.

Realistic enough to exercise every rule: Vietnamese names with diacritics, ID numbers that
agree with province, sex, century and birth year, residences spread over all 63 provinces
by population (the six welfare-pilot provinces included), children linked to both parents
(some to the mother only), elderly people, and a few deceased. The same ``random_seed``
gives the same people, and loading twice adds nobody (rows go through a staging table and
``ON CONFLICT DO NOTHING``), so the seeder is idempotent.

A million people load in well under a few minutes (docs/benchmarks.md): rows are generated
in chunks and streamed with ``COPY`` into an unlogged staging table.

Each person also gets a mobile number registered to them in the local subscriber database
(``mobile_subscribers``, the SIM owner check): the ``n``-th person generated (from 0) has
:func:`synthetic_phone` ``(n)``, so the demo registration flow works for anyone seeded.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from typing import Any

import asyncpg

from wallet_api.accounts.id_numbers import make, provinces

__all__ = ["PopulationPlan", "generate_people", "load_population", "synthetic_phone"]

_COLUMNS = (
    "person_id",
    "full_name",
    "date_of_birth",
    "sex",
    "place_of_origin",
    "residence_address",
    "residence_province",
    "status",
    "died_on",
    "father_id",
    "mother_id",
)

Row = tuple[str, str, date, str, str, str, str, str, date | None, str | None, str | None]


@dataclass(frozen=True)
class PopulationPlan:
    #: Share of people who are children under 18 (all linked to a mother, most to a father).
    children: float = 0.22
    #: Share of adults aged 75 or more.
    elderly: float = 0.08
    #: Share of people recorded as deceased.
    deceased: float = 0.015
    #: Share of children with no father on record.
    no_father: float = 0.08


@dataclass(slots=True)
class _Parent:
    person_id: str
    surname: str
    born: int
    province: str
    address: str
    origin: str


def _names() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("vietnamese_names.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def generate_people(count: int, random_seed: int, today: date, plan: PopulationPlan | None = None) -> Iterator[Row]:
    """Yield ``count`` people: adults first (some become parents), then children."""
    plan = plan or PopulationPlan()
    rng = random.Random(random_seed)
    names = _names()
    surnames = [s for s, _ in names["surnames"]]
    surname_weights = [w for _, w in names["surnames"]]
    table = list(provinces().values())
    codes = [p.code for p in table]
    weights = [float(p.population_thousands) for p in table]
    province_names = {p.code: p.name for p in table}
    streets, wards = names["streets"], names["wards"]
    used: set[str] = set()

    def new_id(province: str, sex: str, year: int) -> str:
        while True:
            number = make(province, sex, year, rng.randrange(1_000_000))  # type: ignore[arg-type]
            if number not in used:
                used.add(number)
                return number

    def birthday(year: int) -> date:
        return date(year, 1, 1) + timedelta(days=rng.randrange(365))

    def given(sex: str) -> str:
        middle = rng.choice(names["male_middle" if sex == "male" else "female_middle"])
        return f"{middle} {rng.choice(names['male_given' if sex == 'male' else 'female_given'])}"

    def address(province: str) -> str:
        return f"Số {rng.randrange(1, 400)} {rng.choice(streets)}, {rng.choice(wards)}, {province_names[province]}"

    n_children = int(count * plan.children)
    n_adults = count - n_children
    mothers: list[_Parent] = []
    fathers: list[_Parent] = []
    # Mothers born 1975–2005 can have children under 18 today; keep a bounded sample.
    max_parents = max(1000, n_children)
    for _ in range(n_adults):
        sex = "female" if rng.random() < 0.505 else "male"
        elderly = rng.random() < plan.elderly
        age = rng.randrange(75, 101) if elderly else 18 + int(rng.betavariate(1.6, 2.4) * 57)
        born = birthday(today.year - age - 1)
        home = rng.choices(codes, weights)[0]
        birth_province = home if rng.random() < 0.75 else rng.choices(codes, weights)[0]
        surname = rng.choices(surnames, surname_weights)[0]
        person_id = new_id(birth_province, sex, born.year)
        origin = f"{rng.choice(wards)}, {province_names[birth_province]}"
        addr = address(home)
        status, died = "alive", None
        p_dead = plan.deceased * (6 if age >= 75 else 0.3)
        if rng.random() < p_dead:
            status, died = "deceased", today - timedelta(days=rng.randrange(1, 3 * 365))
        if status == "alive" and 1975 <= born.year <= 2004:
            parent = _Parent(person_id, surname, born.year, home, addr, origin)
            pool = mothers if sex == "female" else fathers
            if len(pool) < max_parents:
                pool.append(parent)
        yield (person_id, f"{surname} {given(sex)}", born, sex, origin, addr, home, status, died, None, None)

    for _ in range(n_children):
        if not mothers:
            break
        mother = rng.choice(mothers)
        earliest = max(mother.born + 18, today.year - 17)
        latest = min(mother.born + 45, today.year)
        if earliest > latest:
            earliest = latest = max(mother.born + 18, today.year - 17)
        year = rng.randint(earliest, latest)
        born = birthday(year)
        if born > today:
            born = today - timedelta(days=rng.randrange(1, 200))
        father = None if rng.random() < plan.no_father or not fathers else rng.choice(fathers)
        sex = "female" if rng.random() < 0.49 else "male"
        surname = father.surname if father else mother.surname
        person_id = new_id(mother.province, sex, born.year)
        yield (
            person_id,
            f"{surname} {given(sex)}",
            born,
            sex,
            father.origin if father else mother.origin,
            mother.address,
            mother.province,
            "alive",
            None,
            father.person_id if father else None,
            mother.person_id,
        )


#: Synthetic people's numbers: +8497 and seven digits (no demo citizen's number starts so).
_PHONE_PREFIX = "+8497"
_PHONES = 10_000_000


def synthetic_phone(index: int) -> str | None:
    """The mobile number registered to the ``index``-th synthetic person (None past ten million)."""
    return f"{_PHONE_PREFIX}{index:07d}" if 0 <= index < _PHONES else None


async def load_population(pool: asyncpg.Pool, count: int, random_seed: int, today: date, *, chunk: int = 50_000) -> int:
    """Load ``count`` synthetic people; returns how many were new."""
    people = generate_people(count, random_seed, today)
    inserted = 0
    index = 0
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS population_seed_staging (LIKE population INCLUDING DEFAULTS)"
        )
        try:
            while True:
                batch = [row for _, row in zip(range(chunk), people, strict=False)]
                if not batch:
                    break
                async with conn.transaction():
                    await conn.execute("TRUNCATE population_seed_staging")
                    await conn.copy_records_to_table("population_seed_staging", records=batch, columns=_COLUMNS)
                    status = await conn.execute(
                        f"""INSERT INTO population ({", ".join(_COLUMNS)})
                            SELECT {", ".join(_COLUMNS)} FROM population_seed_staging
                            ON CONFLICT (person_id) DO NOTHING"""
                    )
                    inserted += int(status.split()[-1])
                    phones = [(synthetic_phone(index + i), row[0]) for i, row in enumerate(batch)]
                    await conn.execute(
                        """INSERT INTO mobile_subscribers (phone, person_id)
                           SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (phone) DO NOTHING""",
                        [p for p, _ in phones if p is not None],
                        [person for p, person in phones if p is not None],
                    )
                    index += len(batch)
        finally:
            await conn.execute("DROP TABLE IF EXISTS population_seed_staging")
    return inserted
