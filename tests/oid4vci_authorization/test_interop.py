"""An independent wallet (oid4vc-ts on Node.js, tests/interop/oid4vci-authorization-code.mjs)
runs the authorization code flow against the app served over HTTP with wallet attestation
required: PAR with PKCE S256, DPoP and its attestation, the page, the code, the token, a
credential. The test plays the browser and the citizen's app (through our real API)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.documents.conftest import Citizen
from tests.oid4vci_authorization.conftest import flow_in, handle_in
from tests.oid4vci_authorization.wallet import Provider
from tests.support.node import Node
from tests.support.served import serve
from tests.support.signing import b64url
from wallet_api.keys.provider import public_jwk
from wallet_api.settings import Settings

CONFIGURATION = "driving_licence_sd_jwt"
REDIRECT_URI = "https://wallet.example/callback"


def _private_jwk(provider: Provider) -> dict[str, str]:
    d = provider.key.private_numbers().private_value.to_bytes(32, "big")
    return {**public_jwk(provider.key.public_key()), "d": b64url(d)}


@pytest.fixture
def attesting_app(settings: Settings, provider: Provider, tmp_path: Path) -> Any:
    """The app served with the provider trusted and wallet attestation required."""
    with serve(
        settings,
        tmp_path,
        WALLET_OPENID4VCI_WALLET_PROVIDERS_JWKS=provider.jwks,
        WALLET_OPENID4VCI_ATTESTATION_REQUIRED="true",
    ) as base:
        yield base


async def _browser_and_app(base: str, authorization_url: str, citizen: Citizen, document_id: str) -> str:
    """The browser opens the page, the citizen approves in the app; the page's redirect."""
    url = urlsplit(authorization_url)
    async with httpx.AsyncClient(base_url=base) as browser:
        page = await browser.get(f"{url.path}?{url.query}")
        assert page.status_code == 200, page.text
        assert "OID4VC-TS Test Wallet" in page.text
        handle, flow = handle_in(page), flow_in(page)
        shown = await browser.get(f"/v1/me/authorizations/{handle}", headers=citizen.headers)
        assert shown.status_code == 200, shown.text
        assert shown.json()["verified"] is True
        approved = await browser.post(
            f"/v1/me/authorizations/{handle}/approve", headers=citizen.headers, json={"document_ids": [document_id]}
        )
        assert approved.status_code == 200, approved.text
        assert (await browser.get(f"/openid4vci/authorize/{flow}/status")).json() == {"status": "approved"}
        back = await browser.get(f"/openid4vci/authorize/{flow}/continue")
        assert back.status_code == 303, back.text
        return str(back.headers["location"])


async def test_an_independent_wallet_gets_a_credential_through_par_pkce_dpop_and_attestation(
    node: Node, attesting_app: str, settings: Settings, provider: Provider, licence_holder: Citizen
) -> None:
    wallet = node.served_at({settings.public_base_url: attesting_app})
    common = {
        "issuer": settings.public_base_url,
        "clientId": "https://wallet.example",
        "redirectUri": REDIRECT_URI,
        "configurationId": CONFIGURATION,
        "provider": {"privateJwk": _private_jwk(provider), "kid": provider.kid},
    }
    started = await wallet.run("oid4vci-authorization-code.mjs", {"step": "authorize", **common})
    assert started["authorizationRequestUrl"].startswith(f"{settings.public_base_url}/openid4vci/authorize?")
    assert "request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A" in started["authorizationRequestUrl"]
    location = await _browser_and_app(
        attesting_app,
        started["authorizationRequestUrl"],
        licence_holder,
        licence_holder.licence_id,  # type: ignore[attr-defined]
    )
    assert location.startswith(REDIRECT_URI + "?code=")
    out = await wallet.run(
        "oid4vci-authorization-code.mjs", {"step": "redeem", **common, **started, "redirectLocation": location}
    )
    assert out["tokenResponse"]["token_type"] == "DPoP"
    assert out["tokenResponse"]["authorization_details"] == [
        {
            "type": "openid_credential",
            "credential_configuration_id": CONFIGURATION,
            "credential_identifiers": [licence_holder.licence_id],  # type: ignore[attr-defined]
        }
    ]
    [issued] = out["credentials"]
    payload = json.loads(_b64decode(issued["credential"].split("~")[0].split(".")[1]))
    assert payload["cnf"]["jwk"]["x"] == started["keys"]["holder"]["x"]


def _b64decode(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def test_without_its_attestation_the_same_wallet_is_an_invalid_client(
    attesting_app: str, settings: Settings
) -> None:
    from tests.oid4vci_authorization.wallet import Wallet

    wallet = Wallet()
    async with httpx.AsyncClient(base_url=attesting_app) as http:
        r = await http.post(
            "/openid4vci/par",
            data=wallet.par_form(),
            headers={"DPoP": wallet.dpop("POST", f"{settings.public_base_url}/openid4vci/par")},
        )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
