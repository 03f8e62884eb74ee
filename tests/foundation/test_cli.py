"""The wallet command line: every command has help; migrate --status reads the real database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from wallet_api.settings import Settings

COMMANDS = [[], ["serve"], ["worker"], ["migrate"], ["seed"], ["dev"], ["audit"], ["audit", "verify"], ["keys"]]


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wallet_api.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "wallet")
def test_every_command_has_help(args: list[str]) -> None:
    r = run([*args, "--help"])
    assert r.returncode == 0, r.stderr
    assert "Usage:" in r.stdout


def test_migrate_status_lists_applied_migrations(settings: Settings) -> None:
    r = run(
        ["migrate", "--status"], {"WALLET_DATABASE_URL": settings.database_url, "WALLET_REDIS_URL": settings.redis_url}
    )
    assert r.returncode == 0, r.stderr
    assert "0001  foundation" in r.stdout
    assert "applied" in r.stdout
    assert "pending" not in r.stdout


def test_serve_without_servers_is_a_clear_error() -> None:
    r = run(["serve"], {"WALLET_DATABASE_URL": "", "WALLET_REDIS_URL": ""})
    assert r.returncode != 0
    assert "WALLET_DATABASE_URL" in r.stderr


def test_bad_setting_is_a_clear_error() -> None:
    r = run(["migrate", "--status"], {"WALLET_PORT": "eighty"})
    assert r.returncode != 0
    assert "WALLET_PORT" in r.stderr
