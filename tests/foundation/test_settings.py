"""Settings come from WALLET_* variables, in one place, with clear errors."""

import base64
import re
from pathlib import Path

import pytest

from wallet_api.settings import Settings, SettingsError, variables


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


def test_an_override_that_is_not_a_kernel_field_is_refused() -> None:
    # bench.payments passed the simulator's URL by its old flat name after it moved into the
    # providers section: it was dropped in silence and every payout went to the default port.
    assert Settings.from_env({}, port=9000).port == 9000
    with pytest.raises(TypeError, match="provider_sim_url"):
        Settings.from_env({}, provider_sim_url="http://127.0.0.1:1")


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


def _documented() -> dict[str, str]:
    """Each ``WALLET_*`` variable of a table in docs/configuration.md, and the ``###`` heading it is under."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    found: dict[str, str] = {}
    heading = ""
    for line in text.splitlines():
        if line.startswith("### "):
            heading = line.removeprefix("### ").strip()
        elif line.startswith("| `WALLET_"):
            for variable in re.findall(r"`(WALLET_[A-Z0-9_]+)`", line.split(" | ")[0]):
                found[variable] = heading
    return found


def test_docs_configuration_md_lists_every_setting_under_its_section_and_no_other() -> None:
    documented, declared = _documented(), variables()
    assert sorted(set(declared) - set(documented)) == [], "settings missing from docs/configuration.md"
    assert sorted(set(documented) - set(declared)) == [], "docs/configuration.md lists variables no setting reads"
    assert {v: (declared[v], documented[v]) for v in declared if declared[v] != documented[v]} == {}


def test_a_section_reads_the_variables_named_as_before() -> None:
    s = Settings.from_env(
        {
            "WALLET_NOTIFY_MAX_ATTEMPTS": "3",
            "WALLET_PUSH_APNS_TOPIC": "vn.gov.app",
            "WALLET_SMS_GATEWAY_URL": "https://sms.example",
            "WALLET_PAYOUT_LANES": "7",
            "WALLET_PROVIDERS": "[]",
            "WALLET_PROVIDER_SIM_URL": "http://sim",
            "WALLET_DOCUMENTS_CODE_TTL_SECONDS": "90",
            "WALLET_OTP_TTL_SECONDS": "120",
            "WALLET_FACE_MATCH_THRESHOLD_PERCENT": "80",
            "WALLET_METRICS_ALLOW_NON_LOOPBACK": "yes",
        }
    )
    assert (s.notifications.max_attempts, s.push.apns_topic, s.sms.url) == (3, "vn.gov.app", "https://sms.example")
    assert (s.payouts.lanes, s.providers.configs, s.providers.sim_url) == (7, "[]", "http://sim")
    assert (s.documents.code_ttl_seconds, s.accounts.otp_ttl_seconds, s.proofing.face_match_threshold_percent) == (
        90,
        120,
        80,
    )
    assert s.metrics_allow_non_loopback is True


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WALLET_FACE_MATCH_THRESHOLD_PERCENT", "101"),
        ("WALLET_DOCUMENTS_OFFLINE_TTL_SECONDS", "59"),
        ("WALLET_NOTIFY_MAX_ATTEMPTS", "many"),
        ("WALLET_METRICS_ALLOW_NON_LOOPBACK", "perhaps"),
    ],
)
def test_a_value_out_of_its_range_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})
