"""``wallet seed`` for proofing: the development trust list and Document Signer (idempotent)."""

from __future__ import annotations

import asyncpg

from proofing.devchip.material import ensure_dev_material
from wallet_api.kernel import SeedOptions, Settings

__all__ = ["seed_chip_trust"]


async def seed_chip_trust(pool: asyncpg.Pool, settings: Settings, options: SeedOptions) -> None:
    ensure_dev_material(settings)
