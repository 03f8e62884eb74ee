"""Fixtures for the authorization code flow: a trusted wallet provider, wallets, a citizen
with a driving licence, and the page-and-app steps that lead to a code."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from openid4vci.attestation import WALLET_PROVIDERS, WalletProviders
from tests.documents import conftest as documents
from tests.documents.conftest import Citizen, issue
from tests.oid4vci_authorization.wallet import Provider, Wallet, query_of
from tests.support.settings import replaced

__all__ = ["Approved", "issuer", "make_citizen", "make_org"]

# The documents tests' organisations and citizens, as fixtures here too.
issuer = documents.issuer
make_citizen = documents.make_citizen
make_org = documents.make_org

#: ``approved(wallet, citizen)``: the browser's redirect query after the citizen approved.
Approved = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
async def trusting(app: Litestar, provider: Provider) -> AsyncIterator[Callable[..., None]]:
    """Make the app trust ``provider`` (and change oid4vci settings) for this test."""
    own = app.state.services

    def configure(**settings: Any) -> None:
        changed = replaced(own.settings, openid4vci_wallet_providers_jwks=provider.jwks, **settings)
        providers = WalletProviders.from_settings(changed)
        app.state.services = own.replaced(settings=changed, services={WALLET_PROVIDERS: providers})

    configure()
    yield configure
    app.state.services = own


@pytest.fixture
def wallet(provider: Provider) -> Wallet:
    """An attested wallet."""
    w = Wallet()
    w.attestation = provider.attest(w.client_id, w.instance)
    return w


@pytest.fixture
async def licence_holder(make_citizen: Any, issuer: dict[str, str], client: httpx.AsyncClient) -> Citizen:
    """A level-2 citizen holding one driving licence (``citizen.licence_id``)."""
    citizen: Citizen = await make_citizen()
    doc = await issue(client, issuer, doc_type="driving_licence")
    citizen.licence_id = doc["id"]  # type: ignore[attr-defined]
    return citizen


async def open_page(client: httpx.AsyncClient, wallet: Wallet, request_uri: str) -> httpx.Response:
    return await client.get("/openid4vci/authorize", params={"client_id": wallet.client_id, "request_uri": request_uri})


def handle_in(page: httpx.Response) -> str:
    marker = "/openid4vci/approve/"
    start = page.text.index(marker) + len(marker)
    return page.text[start : start + 22]


def flow_in(page: httpx.Response) -> str:
    marker = 'data-continue-url="/openid4vci/authorize/'
    start = page.text.index(marker) + len(marker)
    return page.text[start : start + 36]


@pytest.fixture
async def approved(client: httpx.AsyncClient) -> Approved:
    async def _approved(wallet: Wallet, citizen: Citizen, **par: Any) -> dict[str, str]:
        pushed = await wallet.push(client, **par)
        assert pushed.status_code == 201, pushed.text
        page = await open_page(client, wallet, pushed.json()["request_uri"])
        assert page.status_code == 200, page.text
        handle, flow = handle_in(page), flow_in(page)
        r = await client.post(
            f"/v1/me/authorizations/{handle}/approve",
            headers=citizen.headers,
            json={"document_ids": [citizen.licence_id]},  # type: ignore[attr-defined]
        )
        assert r.status_code == 200, r.text
        back = await client.get(f"/openid4vci/authorize/{flow}/continue")
        assert back.status_code == 303, back.text
        return query_of(back.headers["location"])

    return _approved


async def rows(db: asyncpg.Pool) -> int:
    return int(await db.fetchval("SELECT count(*) FROM vci_authorizations"))
