"""The trusted wallet providers' JWKS is read when the settings are: a bad one stops the start."""

from __future__ import annotations

from pathlib import Path

import pytest

from openid4vci.attestation import WalletProviders
from tests.oid4vci_authorization.wallet import Provider
from wallet_api.settings import Settings, SettingsError


def test_the_jwks_may_be_given_inline_or_as_a_file(tmp_path: Path) -> None:
    provider = Provider()
    inline = Settings.from_env({"WALLET_OPENID4VCI_WALLET_PROVIDERS_JWKS": provider.jwks})
    (tmp_path / "providers.json").write_text(provider.jwks)
    from_file = Settings.from_env({"WALLET_OPENID4VCI_WALLET_PROVIDERS_JWKS": str(tmp_path / "providers.json")})
    for settings in (inline, from_file):
        assert len(WalletProviders.from_settings(settings).candidates(provider.kid)) == 1


@pytest.mark.parametrize(
    "value",
    [
        '{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "k"}]}',  # not a point
        '{"keys": [{"kty": "RSA", "n": "x", "e": "AQAB", "kid": "k"}]}',
        '{"keys": "none"}',
        "/nowhere/providers.json",
    ],
)
def test_a_malformed_jwks_stops_the_start(value: str) -> None:
    with pytest.raises(SettingsError, match="WALLET_OPENID4VCI_WALLET_PROVIDERS_JWKS"):
        Settings.from_env({"WALLET_OPENID4VCI_WALLET_PROVIDERS_JWKS": value})


def test_a_key_without_a_kid_or_twice_the_same_kid_is_refused() -> None:
    jwk = Provider().jwks.replace('"kid": "provider-1"', '"kid": ""')
    with pytest.raises(SettingsError):
        Settings.from_env({"WALLET_OPENID4VCI_WALLET_PROVIDERS_JWKS": jwk})


def test_requiring_attestation_needs_trusted_providers() -> None:
    with pytest.raises(SettingsError, match="WALLET_OPENID4VCI_ATTESTATION_REQUIRED"):
        Settings.from_env({"WALLET_OPENID4VCI_ATTESTATION_REQUIRED": "true"})
