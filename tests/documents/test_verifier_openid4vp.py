"""The verifier web app asks a wallet over OpenID4VP, in a real browser (tests/support/browser.py).

The officer picks a preset or claims, the page creates the presentation request through the
verifier service and shows its QR code and link; an independent wallet
(tests/interop/oid4vp-wallet.mjs: @openid4vc/openid4vp, @sd-jwt/sd-jwt-vc, jose) resolves the
link read from that QR code and answers; the page shows the verdict with only the claims asked
for. Refusals (a revoked licence, a wallet that says no, a response disclosing more, a request
that expired, a cancelled one) are messages in the verdict panel.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import redis.asyncio as aioredis
from jwcrypto import jwk

from tests.documents.conftest import Citizen, id_card_claims, issue, licence_claims, portrait_uri
from tests.documents.test_verifier_web import (
    HANG_GUARD_MS,
    app_running,
    check_pasted,
    sign_in,
    verdict,
    verifier_officer,
)
from tests.support.browser import Browsers, screenshot
from tests.support.node import Node

#: Reads the request's QR code back with the page's own QR decoder (jsQR), as a phone would.
_READ_QR = """(img) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const found = window.jsQR(pixels.data, pixels.width, pixels.height);
  return found ? found.data : null;
}"""


async def held(client: httpx.AsyncClient, issuer: dict[str, str], citizen: Citizen, **document: Any) -> dict[str, Any]:
    """A document issued to ``citizen`` and its SD-JWT VC as the app holds it."""
    doc = await issue(client, issuer, **document)
    r = await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=citizen.headers)
    assert r.status_code == 200, r.text
    return {**doc, "credential": r.json()["credential"]}


def private_jwk(citizen: Citizen) -> dict[str, Any]:
    return dict(jwk.JWK.from_pyca(citizen.key).export(as_dict=True, private_key=True))


async def ask(page: Any, preset: str) -> str:
    """Create a request from a preset (by keyboard); the ``openid4vp://`` link its QR code holds."""
    await page.get_by_label("Mẫu yêu cầu").select_option(preset)
    await page.get_by_role("button", name="Tạo yêu cầu / Create request").focus()
    await page.keyboard.press("Enter")
    qr = page.get_by_role("img", name="Mã QR yêu cầu cho ví")
    await qr.wait_for(timeout=HANG_GUARD_MS)
    link = str(await page.locator("#ask-link").get_attribute("href"))
    assert link.startswith("openid4vp://?")
    assert await qr.evaluate(_READ_QR) == link
    return link


async def answer(node: Node, link: str, document: dict[str, Any], holder: Citizen, **extra: Any) -> Any:
    payload = {"authorizationRequest": link, "credential": document["credential"], "holderJwk": private_jwk(holder)}
    return await node.run("oid4vp-wallet.mjs", {**payload, **extra})


async def wallet_reads(client: httpx.AsyncClient, link: str) -> dict[str, Any]:
    """The request object at the link's ``request_uri``, as a wallet fetches it (its payload; the
    signature and certificate are the interop tests' concern)."""
    fetched = await client.get(parse_qs(urlsplit(link).query)["request_uri"][0])
    assert fetched.status_code == 200, fetched.text
    body = fetched.text.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


async def signed_in_page(browsers: Browsers, served: str, username: str) -> Any:
    context = await browsers.launch()
    page = context.pages[0] if context.pages else await context.new_page()
    await sign_in(page, served, username)
    await app_running(page)
    return page


async def fields_shown(page: Any) -> set[str]:
    rows = page.locator("#verdict-fields tbody th")
    return {str(name).split(" / ")[1] for name in await rows.all_inner_texts()}


async def test_the_officer_asks_the_wallet_and_sees_only_the_requested_claims(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    served: str,
    browsers: Browsers,
    node_served: Node,
    issuer: dict[str, str],
    make_citizen: Any,
) -> None:
    username = await verifier_officer(db)
    holder = await make_citizen()
    card = await held(
        client, issuer, holder, doc_type="chip_id_card", claims=id_card_claims(photo_ref="sha256:4f0c5e2b9a")
    )
    licence = await held(client, issuer, holder, claims=licence_claims(portrait=portrait_uri()))
    revoked = await held(client, issuer, holder, claims=licence_claims(portrait=portrait_uri()))
    r = await client.post(f"/v1/agency/documents/{revoked['id']}/revoke", headers=issuer, json={"reason": "lost"})
    assert r.status_code == 200, r.text

    page = await signed_in_page(browsers, served, username)

    # Hotel check-in: the preset ticks name, date of birth and ID number (the photo reference
    # travels with the name); nothing else of the ID card reaches the page.
    link = await ask(page, "hotel-check-in")
    asked = await page.locator("#ask-what").inner_text()
    assert "Thẻ căn cước / Chip ID card" in asked and "Date of birth" in asked and "Place of origin" not in asked
    await screenshot(page, "verify-openid4vp-request")
    out = await answer(node_served, link, card, holder)
    assert (out["status"], out["clientPrefix"], out["responseMode"]) == (200, "x509_san_dns", "direct_post.jwt")
    await verdict(page, "valid")
    assert await fields_shown(page) == {
        "Personal identification number",
        "Full name",
        "Date of birth",
        "Photograph",
    }
    shown = await page.locator("#verdict").inner_text()
    assert "Nguyễn Văn Hùng" in shown and "001090012345" in shown and "Hoài Đức" not in shown
    facts = await page.locator("#verdict-facts").inner_text()
    assert "Chip ID card" in facts and "OpenID4VP" in facts and "Cục Cảnh sát giao thông" in facts
    await screenshot(page, "verify-openid4vp-valid")

    # Over 18 only: one yes, no name, no date.
    link = await ask(page, "over-18")
    await answer(node_served, link, card, holder)
    await verdict(page, "valid")
    assert await fields_shown(page) == {"Aged 18 or over"}
    assert "Nguyễn" not in await page.locator("#verdict").inner_text()

    # The traffic police's licence check: the portrait is a picture beside the facts.
    link = await ask(page, "driving-licence-check")
    await answer(node_served, link, licence, holder)
    await verdict(page, "valid")
    picture = page.get_by_role("img", name="Hình chân dung / Portrait")
    assert await picture.evaluate("img => img.complete && img.naturalWidth") == 120
    assert "Licence points" in await fields_shown(page)
    assert "Place of residence" not in await fields_shown(page)
    await screenshot(page, "verify-openid4vp-licence")

    # A revoked licence: the wallet's answer is genuine, the document is not valid.
    link = await ask(page, "driving-licence-check")
    out = await answer(node_served, link, revoked, holder)
    assert out["status"] == 400
    await verdict(page, "revoked")
    assert (await page.locator("#verdict-vi").inner_text(), await page.locator("#verdict-en").inner_text()) == (
        "ĐÃ BỊ THU HỒI",
        "REVOKED",
    )
    assert "Cơ quan cấp đã thu hồi giấy tờ này" in await page.locator("#verdict-detail").inner_text()
    assert await page.locator("#verdict-fields").is_hidden()
    assert "Nguyễn" not in await page.locator("#verdict").inner_text()
    await screenshot(page, "verify-openid4vp-revoked")


async def test_refusals_expiry_and_cancel_are_clear_messages(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    served: str,
    browsers: Browsers,
    node_served: Node,
    issuer: dict[str, str],
    make_citizen: Any,
) -> None:
    username = await verifier_officer(db)
    holder = await make_citizen()
    licence = await held(client, issuer, holder)

    page = await signed_in_page(browsers, served, username)

    # No claim chosen: a message, no request.
    await page.get_by_role("button", name="Tạo yêu cầu / Create request").click()
    await page.get_by_text("Choose at least one claim").wait_for(timeout=HANG_GUARD_MS)
    assert await page.locator("#ask-pending").is_hidden()

    # The holder says no in the wallet: the wallet posts an error to the response URI.
    request = await wallet_reads(client, await ask(page, "driving-licence-check"))
    r = await client.post(
        request["response_uri"],
        data={"error": "access_denied", "error_description": "the holder declined", "state": request["state"]},
    )
    assert r.status_code == 200, r.text
    await verdict(page, "wallet-declined")
    assert "The holder declined" in await page.locator("#verdict-detail").inner_text()
    await screenshot(page, "verify-openid4vp-declined")

    # A wallet disclosing more than asked: the response is refused, nothing shown.
    link = await ask(page, "driving-licence-check")
    extra = ["full_name", "photo_ref", "licence_number", "classes", "expiry_date", "points", "place_of_residence"]
    out = await answer(node_served, link, licence, holder, disclose=extra)
    assert out["status"] == 400
    await verdict(page, "invalid-response")
    assert "discloses other claims" in await page.locator("#verdict-detail").inner_text()
    assert "Nguyễn" not in await page.locator("#verdict").inner_text()

    # The request expires unanswered (Redis forgets it, as its time to live ends).
    await ask(page, "over-18")
    await page.get_by_text("Waiting for the citizen's wallet").wait_for(timeout=HANG_GUARD_MS)
    async for key in redis.scan_iter(match="vp:*"):
        await redis.delete(key)
    await verdict(page, "request-expired")
    assert "create a new one" in await page.locator("#verdict-detail").inner_text()
    await screenshot(page, "verify-openid4vp-expired")

    # Cancelled, by keyboard: from the request's description Tab reaches the link, then the
    # cancel button; the QR code goes and the page stops waiting.
    link = await ask(page, "over-18")
    await page.locator("#ask-what:focus").wait_for(timeout=HANG_GUARD_MS)
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "ask-link"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Hủy yêu cầu / Cancel the request"
    await page.keyboard.press("Enter")
    await verdict(page, "cancelled")
    assert await page.locator("#ask-pending").is_hidden()

    # The session ends while the page waits: it says so instead of waiting on.
    await ask(page, "over-18")
    session = next(c for c in await page.context.cookies() if c["name"] == "cw_session")
    await page.context.add_cookies([{**session, "value": session["value"][:-4] + "AAAA"}])
    await verdict(page, "error")
    assert "Your session has expired" in await page.locator("#verdict-detail").inner_text()

    # A request scanned as if it were a citizen's code: not a document, and the page says what it is.
    await check_pasted(page, link)
    await verdict(page, "not-ours")
    assert "This is a request for a wallet" in await page.locator("#verdict-detail").inner_text()
