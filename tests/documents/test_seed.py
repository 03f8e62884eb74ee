"""Demo data: issuers and chip ID cards for the population registry, idempotently."""

from __future__ import annotations

from typing import Any

import asyncpg

from documents.seed import seed_documents
from documents.types import get_type
from wallet_api.domains import SeedOptions


async def test_seeding_issues_valid_id_cards_once(db: asyncpg.Pool, app: Any) -> None:
    await db.execute(
        """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin, residence_address,
                                   residence_province)
           VALUES ('001090012345', 'Nguyễn Văn Hùng', '1990-05-17', 'male', 'Hà Nội', 'Đống Đa, Hà Nội', '001'),
                  ('079301000001', 'Trần Thị Mai', '2001-02-03', 'female', 'TP HCM', 'Quận 1, TP HCM', '079'),
                  ('001155000001', 'Lê Thị Lan', '1955-09-09', 'female', 'Hà Nội', 'Ba Đình, Hà Nội', '001'),
                  ('001215000001', 'Phạm Minh An', '2015-01-01', 'male', 'Hà Nội', 'Ba Đình, Hà Nội', '001')"""
    )
    settings = app.state.services.settings
    await seed_documents(db, settings, SeedOptions(citizens=0))
    await seed_documents(db, settings, SeedOptions(citizens=0))
    rows = await db.fetch("SELECT holder_id, claims FROM documents ORDER BY holder_id")
    assert [r["holder_id"] for r in rows] == ["001090012345", "001155000001", "079301000001"]
    card = get_type("chip_id_card")
    assert card is not None
    for r in rows:
        assert card.parse(r["claims"]) == r["claims"]
    # A card made within two years before a renewal age (25 here) already covers it: valid until 40.
    expiry = {r["holder_id"]: r["claims"].get("expiry_date") for r in rows}
    assert expiry == {"001090012345": "2030-05-17", "001155000001": None, "079301000001": "2041-02-03"}
    assert await db.fetchval("SELECT count(*) FROM organisations WHERE kind = 'issuer'") == 4
