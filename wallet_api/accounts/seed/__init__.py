"""``wallet seed`` for identity: the synthetic population and the demo organisations and people."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import asyncpg
import click

from wallet_api.accounts.seed.demo import load_demo
from wallet_api.accounts.seed.population import generate_people, load_population
from wallet_api.kernel import SeedOptions, Settings

__all__ = ["generate_people", "load_demo", "load_population", "seed_identity"]


async def seed_identity(pool: asyncpg.Pool, settings: Settings, options: SeedOptions) -> None:
    started = time.perf_counter()
    added = await load_population(pool, options.citizens, options.random_seed, datetime.now(UTC).date())
    click.echo(f"population: {added} new people of {options.citizens} in {time.perf_counter() - started:.1f}s")
    creds = await load_demo(pool, settings)
    if creds:
        click.echo(f"demo credentials written to {settings.data_dir / 'demo-credentials.json'}")
