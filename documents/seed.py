"""Demo data: the issuing agencies, and a chip ID card for everyone in the population registry.

Idempotent: organisations are inserted only if missing, and the cards go through the bulk
issuing path keyed on the card number, so running ``wallet seed`` again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from documents.bulk import bulk_issue
from wallet_api.accounts.registry import LocalRegistry
from wallet_api.kernel import Principal, SeedOptions, Settings

__all__ = ["ISSUERS", "seed_documents"]

#: (organisation id, name, document types it issues)
ISSUERS: tuple[tuple[str, str, list[str]], ...] = (
    ("c06", "Cục Cảnh sát quản lý hành chính về trật tự xã hội (C06)", ["chip_id_card"]),
    ("csgt", "Cục Cảnh sát giao thông", ["driving_licence", "vehicle_registration"]),
    ("bhxh", "Bảo hiểm xã hội Việt Nam", ["health_insurance_card", "social_insurance_record"]),
    ("baoviet", "Tổng Công ty Bảo hiểm Bảo Việt", ["vehicle_liability_insurance"]),
)
_ISSUED_ON = dt.date(2024, 7, 1)
#: Ages at which a chip ID card must be renewed (Law on Identification 2023).
_RENEWAL_AGES = (14, 25, 40, 60)


def _birthday(dob: dt.date, age: int) -> dt.date:
    try:
        return dob.replace(year=dob.year + age)
    except ValueError:  # 29 February
        return dt.date(dob.year + age, 3, 1)


def id_card_claims(person: asyncpg.Record) -> dict[str, Any] | None:
    """A chip ID card from a registry record; None for children under 14 (not yet issued)."""
    dob: dt.date = person["date_of_birth"]
    if _birthday(dob, 14) > _ISSUED_ON:
        return None
    # Valid until the next renewal age, counting a card made within two years before it as
    # covering that age already; none after 60.
    expiry = next((_birthday(dob, a) for a in _RENEWAL_AGES if _birthday(dob, a - 2) > _ISSUED_ON), None)
    claims: dict[str, Any] = {
        "id_number": person["person_id"],
        "full_name": person["full_name"],
        "date_of_birth": dob.isoformat(),
        "sex": person["sex"],
        "nationality": "Việt Nam",
        "place_of_origin": person["place_of_origin"],
        "place_of_residence": person["residence_address"],
        "issue_date": _ISSUED_ON.isoformat(),
    }
    if expiry is not None:
        claims["expiry_date"] = expiry.isoformat()
    return claims


async def seed_documents(pool: asyncpg.Pool, settings: Settings, options: SeedOptions) -> None:
    for org_id, name, types in ISSUERS:
        await pool.execute(
            """INSERT INTO organisations (id, kind, name, document_types) VALUES ($1, 'issuer', $2, $3)
               ON CONFLICT (id) DO NOTHING""",
            org_id,
            name,
            types,
        )
    people = await pool.fetch(
        """SELECT person_id, full_name, date_of_birth, sex, place_of_origin, residence_address
           FROM population WHERE status = 'alive' ORDER BY person_id"""
    )
    rows = []
    for person in people:
        claims = id_card_claims(person)
        if claims is not None:
            rows.append(
                {
                    "doc_type": "chip_id_card",
                    "agency_ref": f"CCCD-{person['person_id']}",
                    "holder_id": person["person_id"],
                    "claims": claims,
                }
            )
    issuer = Principal(kind="client", subject="seed", org_id="c06", scopes=frozenset({"documents:issue"}))
    for start in range(0, len(rows), 10_000):
        await bulk_issue(pool, issuer, rows[start : start + 10_000], LocalRegistry(pool))
