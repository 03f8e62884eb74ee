"""Wallets for the synthetic population, decided per person from a hash (stable, idempotent).

Most people have one wallet (some two, at different providers), about one in ten none.
Some wallet accounts a person would use (their phone number) are registered to someone
else, and a few owners' names are spelled differently from the registry. Most providers
hold names upper-case without diacritics, some keep them as registered, some with odd
spacing: all of those must still match after normalisation.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import asyncpg

from simulators.provider_sim.store import SimStore, Wallet

__all__ = ["Person", "plan_wallets", "seed_from_dsn"]


@dataclass(frozen=True)
class Person:
    person_id: str
    full_name: str
    phone: str | None


def _u(*parts: str) -> float:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _phone(person_id: str, salt: str) -> str:
    digest = hashlib.sha256(f"phone|{salt}|{person_id}".encode()).hexdigest()
    return "09" + str(int(digest[:12], 16))[-8:].zfill(8)


def _strip_marks(name: str) -> str:
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def _variant(name: str, u: float) -> tuple[str, str]:
    """(name as the provider holds it, seed kind)."""
    if u < 0.55:
        return name, "owned"
    if u < 0.85:
        return _strip_marks(name).upper(), "owned"
    if u < 0.97:
        return "  " + "   ".join(name.lower().split()) + " ", "name_variant"
    # Genuinely different: a middle name dropped, or the last letter of the given name changed.
    words = name.split()
    if len(words) > 2:
        return " ".join(words[:1] + words[2:]), "name_different"
    last = words[-1]
    return " ".join([*words[:-1], last[:-1] + ("a" if last[-1:] != "a" else "e")]), "name_different"


def plan_wallets(people: Sequence[Person], providers: Sequence[str], salt: str = "6") -> Iterator[Wallet]:
    """The wallets the simulated providers hold for ``people`` (deterministic)."""
    if not providers:
        return
    for index, person in enumerate(people):
        u = _u(salt, "has", person.person_id)
        phone = person.phone or _phone(person.person_id, salt)
        first = providers[int(_u(salt, "provider", person.person_id) * len(providers))]
        if u < 0.10:
            continue
        if u < 0.12 and len(people) > 1:
            # The number this person would enter is someone else's wallet (a relative's phone).
            other = people[(index + 1) % len(people)]
            yield Wallet(first, phone, other.person_id, other.full_name, "active", 100_000_000, 0, "other_owner")
            continue
        name, kind = _variant(person.full_name, _u(salt, "name", person.person_id))
        s = _u(salt, "status", person.person_id)
        status = "closed" if s < 0.02 else "locked" if s < 0.03 else "active"
        limit = 20_000_000 if _u(salt, "limit", person.person_id) < 0.05 else 100_000_000
        yield Wallet(first, phone, person.person_id, name, status, limit, 0, kind)
        if _u(salt, "second", person.person_id) < 0.15 and len(providers) > 1:
            second = providers[(providers.index(first) + 1) % len(providers)]
            yield Wallet(second, phone, person.person_id, name, "active", 100_000_000, 0, kind)


async def _read_people(dsn: str, batch: int) -> list[list[Person]]:
    conn = await asyncpg.connect(dsn)
    try:
        has_accounts = await conn.fetchval("SELECT to_regclass('accounts') IS NOT NULL")
        sql = (
            "SELECT p.person_id, p.full_name, a.phone FROM population p"
            " LEFT JOIN accounts a ON a.person_id = p.person_id ORDER BY p.person_id"
            if has_accounts
            else "SELECT person_id, full_name, NULL::text AS phone FROM population ORDER BY person_id"
        )
        batches: list[list[Person]] = []
        current: list[Person] = []
        async with conn.transaction():
            async for r in conn.cursor(sql, prefetch=batch):
                current.append(Person(str(r["person_id"]), r["full_name"], r["phone"]))
                if len(current) >= batch:
                    batches.append(current)
                    current = []
        if current:
            batches.append(current)
        return batches
    finally:
        await conn.close()


async def seed_from_dsn(store: SimStore, dsn: str, providers: Sequence[str], salt: str = "6") -> int:
    """Add wallets for everyone in the ``population`` table at ``dsn``; returns wallets added."""
    added = 0
    for people in await _read_people(dsn, 10_000):
        added += store.insert_wallets_if_absent(plan_wallets(people, providers, salt))
    return added
