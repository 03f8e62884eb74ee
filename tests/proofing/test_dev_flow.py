"""The whole flow by hand, as against ``make run``: the seeded development trust list and the CLI phone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import asyncpg
import httpx
import redis.asyncio as aioredis

from proofing.devchip.material import ensure_dev_material
from tests.accounts.conftest import Person, register
from tests.proofing.phone import challenge
from tests.support.settings import replaced
from wallet_api.settings import Settings


def wallet(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WALLET_DATABASE_URL": settings.database_url,
        "WALLET_REDIS_URL": settings.redis_url,
        "WALLET_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "wallet_api.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_development_material_is_made_once_and_never_in_production(settings: Settings, tmp_path: object) -> None:
    own = replaced(settings, data_dir=settings.data_dir / "elsewhere")
    assert ensure_dev_material(own) is True
    assert ensure_dev_material(own) is False  # idempotent: the second seed keeps the first CSCA
    assert sorted(p.name for p in (own.data_dir / "chip-trust").iterdir()) == ["dev-csca.crl", "dev-csca.pem"]
    assert oct((own.data_dir / "chip-dev" / "ds.key.pem").stat().st_mode & 0o777) == "0o600"
    production = replaced(settings, env="production", data_dir=settings.data_dir / "prod")
    assert ensure_dev_material(production) is False
    assert not (production.data_dir / "chip-trust").exists()


async def test_the_cli_plays_the_phone_of_a_demo_citizen(
    settings: Settings, client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    ensure_dev_material(settings)  # what `wallet seed` does under the data directory
    app = await register(client, redis, nhung)
    c = await challenge(client, app.headers)
    r = wallet(
        settings, "proofing", "phone-upload", "--id-number", nhung.person_id,
        "--challenge-id", c["challenge_id"], "--challenge", c["challenge"],
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    answer = await client.post("/v1/proofing/chip-proofs", json=json.loads(r.stdout), headers=app.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["level"] == 2
    unknown = wallet(settings, "proofing", "phone-upload", "--id-number", "079999999999", "--challenge-id", "x",
                     "--challenge", "00")  # fmt: skip
    assert unknown.returncode != 0 and "no citizen" in unknown.stderr
