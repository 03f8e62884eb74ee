"""Issue #16 item 1: "wallet attestation (OAuth client attestation) accepted, and required when
configuration says so" — at the pre-authorized code grant too, not only in the authorization code
flow: with attestation required, an anonymous wallet cannot redeem an offer (and spends nothing
of it), an attested one can; a bad attestation is refused even when none is required."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.documents.conftest import Citizen, issue
from tests.oid4vci_authorization.wallet import Provider
from tests.oid4vci_authorization.wallet import Wallet as AttestedWallet
from tests.openid4vci.test_issuance import offer_from_app
from tests.openid4vci.wallet import ISSUER, PRE_AUTHORIZED, Wallet


@pytest.fixture
async def offered(client: httpx.AsyncClient, issuer: dict[str, str], holder: Citizen) -> tuple[str, str]:
    """A licence offered from the holder's app: the pre-authorized code and the transaction code."""
    doc = await issue(client, issuer)
    made = await offer_from_app(client, holder, doc["id"])
    offer = await Wallet(client).offer(made["offer"])
    return offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"], made["tx_code"]


async def _token(client: httpx.AsyncClient, code: str, tx_code: str, **headers: str) -> httpx.Response:
    wallet = Wallet(client)
    form = {"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code, "tx_code": tx_code}
    sent = {"DPoP": wallet.dpop("POST", f"{ISSUER}/openid4vci/token"), **headers}
    return await client.post("/openid4vci/token", data=form, headers=sent)


def _attested(provider: Provider) -> dict[str, str]:
    wallet = AttestedWallet()
    wallet.attestation = provider.attest(wallet.client_id, wallet.instance)
    return wallet.auth_headers()


async def test_when_required_only_an_attested_wallet_redeems_an_offer(
    client: httpx.AsyncClient, offered: tuple[str, str], trusting: Callable[..., None], provider: Provider
) -> None:
    trusting(openid4vci_attestation_required=True)
    meta: dict[str, Any] = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["pre-authorized_grant_anonymous_access_supported"] is False
    code, tx_code = offered
    r = await _token(client, code, tx_code)
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client"), r.text
    # Nothing of the offer was spent: the same code and transaction code work for an attested wallet.
    r = await _token(client, code, tx_code, **_attested(provider))
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text


async def test_when_not_required_a_bad_attestation_is_still_refused(
    client: httpx.AsyncClient, offered: tuple[str, str], trusting: Callable[..., None], provider: Provider
) -> None:
    meta: dict[str, Any] = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["pre-authorized_grant_anonymous_access_supported"] is True
    code, tx_code = offered
    forged = _attested(Provider())  # a provider we do not trust
    r = await _token(client, code, tx_code, **forged)
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client"), r.text
    only_one = {"OAuth-Client-Attestation": _attested(provider)["OAuth-Client-Attestation"]}
    assert (await _token(client, code, tx_code, **only_one)).json()["error"] == "invalid_client"
    # Anonymous, as the offer and its transaction code authorise.
    r = await _token(client, code, tx_code)
    assert r.status_code == 200, r.text
