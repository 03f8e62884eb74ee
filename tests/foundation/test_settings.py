"""Settings come from WALLET_* variables, in one place, with clear errors."""

import base64
from pathlib import Path

import pytest

from wallet_api.settings import Settings, SettingsError


def test_defaults_start_embedded_servers() -> None:
    s = Settings.from_env({})
    assert s.embedded
    assert (s.host, s.port) == ("127.0.0.1", 8000)


def test_environment_overrides() -> None:
    s = Settings.from_env(
        {"WALLET_PORT": "9000", "WALLET_DATABASE_URL": "postgresql://x/y", "WALLET_REDIS_URL": "redis://r"}
    )
    assert s.port == 9000
    assert not s.embedded


def test_invalid_number_is_named() -> None:
    with pytest.raises(SettingsError, match="WALLET_PORT"):
        Settings.from_env({"WALLET_PORT": "x"})


def test_production_requires_servers_and_kek() -> None:
    with pytest.raises(SettingsError, match="WALLET_DATABASE_URL"):
        Settings.from_env({"WALLET_ENV": "production"})


@pytest.mark.parametrize("kek", ["not base64!", base64.b64encode(b"short").decode()])
def test_kek_must_be_32_bytes_of_base64(kek: str) -> None:
    with pytest.raises(SettingsError, match="WALLET_KEK"):
        Settings.from_env({"WALLET_KEK": kek})


def test_development_kek_is_created_once(tmp_path: Path) -> None:
    s = Settings.from_env({"WALLET_DATA_DIR": str(tmp_path)})
    first = s.kek_bytes()
    assert len(first) == 32
    assert s.kek_bytes() == first
    assert (tmp_path / "dev-kek").stat().st_mode & 0o077 == 0


def _kek_in_new_process(data_dir: str) -> bytes:
    return Settings.from_env({"WALLET_DATA_DIR": data_dir}).kek_bytes()


def test_processes_starting_together_share_one_development_kek(tmp_path: Path) -> None:
    """API and worker processes start at once; they must not end up with different keys."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(8) as pool:
        keys = pool.map(_kek_in_new_process, [str(tmp_path)] * 32)
    assert len(set(keys)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev-kek"]  # no candidate left behind
