"""``wallet dev-sms``: developers read the development SMS sink's codes without knowing its Redis keys."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import asyncpg
import httpx

from tests.accounts.conftest import Person, start_registration
from tests.support.cli import run_wallet
from wallet_api.settings import Settings


async def test_dev_sms_prints_the_registration_code_for_the_phone_as_typed(
    client: httpx.AsyncClient, nhung: Person, settings: Settings, tmp_path: Path, db: asyncpg.Pool
) -> None:
    r = await start_registration(client, nhung, phone="091 200 0001")
    assert r.status_code == 202, r.text
    for typed in ("0912000001", "+84 912 000 001"):
        result = await asyncio.to_thread(run_wallet, settings, tmp_path, "dev-sms", typed, "--json")
        assert result.returncode == 0, result.stderr
        [message] = json.loads(result.stdout)
        assert re.search(r"\b\d{6}\b", str(message["text"]))
    plain = await asyncio.to_thread(run_wallet, settings, tmp_path, "dev-sms", "0912000001")
    assert re.search(r"\b\d{6}\b", plain.stdout)


def test_dev_sms_refuses_where_no_development_sink_is_used(settings: Settings, tmp_path: Path) -> None:
    result = run_wallet(
        settings, tmp_path, "dev-sms", "0912000001", env={"WALLET_SMS_GATEWAY_URL": "https://sms.example"}
    )
    assert result.returncode != 0
    assert "development SMS sink" in result.stderr
