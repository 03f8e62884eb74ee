"""The authorization page in Chromium: it shows the QR and the app link, waits by itself while
the citizen decides in the app, and then takes the browser back to the wallet — with the code
after an approval, with ``access_denied`` after a refusal — under its strict CSP."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.documents.conftest import Citizen
from tests.oid4vci_authorization.wallet import ISSUER, Wallet
from tests.support.browser import Browsers, screenshot


def _callback(served: str) -> str:
    """The wallet's redirect URI: a native wallet's loopback one (the served app's own health page)."""
    return f"{served}/health/live"


async def _push(served: str, wallet: Wallet, http: httpx.AsyncClient) -> str:
    r = await http.post(
        f"{served}/openid4vci/par",
        data=wallet.par_form(state="browser-state", redirect_uri=_callback(served)),
        headers={"DPoP": wallet.dpop("POST", f"{ISSUER}/openid4vci/par")},
    )
    assert r.status_code == 201, r.text
    query = urlencode({"client_id": wallet.client_id, "request_uri": r.json()["request_uri"]})
    return f"{served}/openid4vci/authorize?{query}"


async def _decided_in_the_app(
    browsers: Browsers, served: str, wallet: Wallet, citizen: Citizen, decision: str, body: Any = None
) -> Any:
    """The page opened in Chromium, the citizen's decision made in the app; the page once it has left."""
    page = await (await browsers.launch()).new_page()
    async with httpx.AsyncClient() as http:
        await page.goto(await _push(served, wallet, http))
        await page.locator("#qr svg").wait_for()
        assert wallet.client_id in await page.locator("#wallet-name").inner_text()
        assert "Giấy phép lái xe" in await page.locator("#requested").inner_text()
        await screenshot(page, "oid4vci-authorize")
        handle = str(await page.locator("#open-app").get_attribute("href")).rsplit("/", 1)[1]
        r = await http.post(f"{served}/v1/me/authorizations/{handle}/{decision}", headers=citizen.headers, json=body)
        assert r.status_code == 200, r.text
        # The page notices the decision by itself and leaves for the wallet.
        await page.wait_for_url(f"{_callback(served)}?**")
    return page


async def test_the_page_returns_to_the_wallet_with_a_code_once_the_citizen_approves(
    browsers: Browsers, served: str, licence_holder: Citizen
) -> None:
    wallet = Wallet(client_id="browser-wallet")
    chosen = {"document_ids": [licence_holder.licence_id]}  # type: ignore[attr-defined]
    page = await _decided_in_the_app(browsers, served, wallet, licence_holder, "approve", chosen)
    query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert query["state"] == "browser-state" and query["iss"] == ISSUER
    async with httpx.AsyncClient(base_url=served) as http:
        token = await wallet.token(http, query["code"], redirect_uri=_callback(served))
    assert token.status_code == 200, token.text


async def test_the_page_returns_access_denied_when_the_citizen_declines(
    browsers: Browsers, served: str, licence_holder: Citizen
) -> None:
    page = await _decided_in_the_app(browsers, served, Wallet(client_id="browser-wallet"), licence_holder, "deny")
    query = parse_qs(urlsplit(page.url).query)
    assert query["error"] == ["access_denied"] and "code" not in query
