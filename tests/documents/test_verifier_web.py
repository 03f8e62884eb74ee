"""The verifier web app at /verify, in a real browser (tests/support/browser.py).

The officer signs in, scans QR codes shown to Chromium's fake camera and reads the verdict:
an online code checked by the server; then, with the network cut, offline QR codes checked
in the page against the keys and status lists its service worker cached (valid, tampered,
revoked), and a refusal once that cache is older than the lists' ttl.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import asyncpg
import cbor2
import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from documents.issuer_keys import issuer_signing_key
from documents.offline import encode_offline, open_offline
from documents.offline_dictionary import OFFLINE_DICTIONARY
from documents.types import get_type
from tests.documents.conftest import (
    Citizen,
    id_card_claims,
    issue,
    licence_claims,
    portrait_uri,
    presentation_proof,
)
from tests.support.browser import Browsers, qr_video, screenshot
from wallet_api.accounts.orgs import create_officer
from wallet_api.keys.provider import SigningKey, jwk_thumbprint, public_jwk

PASSWORD = "correct horse battery staple"


async def verifier_officer(db: asyncpg.Pool, org_id: str = "hotel-sen", username: str = "le.tan") -> str:
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO organisations (id, kind, name) VALUES ($1, 'verifier', 'Khách sạn Sen')"
            " ON CONFLICT DO NOTHING",
            org_id,
        )
        await create_officer(conn, org_id, username, "Lễ tân", ["verifier_agent"], password=PASSWORD)
    return username


async def presentation(client: httpx.AsyncClient, holder: Citizen, doc_id: str, fields: list[str], mode: str) -> Any:
    path = "presentations" if mode == "online" else "offline-presentations"
    r = await client.post(
        f"/v1/me/documents/{doc_id}/{path}",
        headers=holder.headers,
        json={"proof": presentation_proof(holder, doc_id, fields, mode=mode)},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    await page.goto(f"{base}/verify")
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(password)
    await page.get_by_role("button", name="Đăng nhập / Sign in").click()


#: The waits below are for events (a verdict shown, a refresh finished), however long a loaded
#: machine takes; this bound only keeps a broken page from hanging the run.
HANG_GUARD_MS = 600_000

#: Resolves once a service worker controls the page (at once, or on its ``controllerchange``).
_CONTROLLED = """() => navigator.serviceWorker.controller !== null || new Promise((done) =>
    navigator.serviceWorker.addEventListener("controllerchange", () => done(true), { once: true }))"""


async def app_running(page: Any) -> None:
    """The page's script has wired its buttons (it then says whether the device is online)."""
    await page.locator("#network-state").filter(has_text="/").wait_for(timeout=HANG_GUARD_MS)


async def scan(page: Any) -> str:
    await page.get_by_role("button", name="Bật camera / Start camera").click()
    banner = page.locator("#verdict-banner")
    await banner.wait_for(state="visible", timeout=HANG_GUARD_MS)
    return str(await banner.get_attribute("data-verdict"))


async def verdict(page: Any, expected: str) -> None:
    await page.locator(f'#verdict-banner[data-verdict="{expected}"]').wait_for(timeout=HANG_GUARD_MS)


async def check_pasted(page: Any, text: str) -> None:
    await page.locator("#verdict").evaluate("e => { e.hidden = true; }")
    await page.locator("#payload").fill(text)
    await page.get_by_role("button", name="Xác thực / Verify").click()
    await page.locator("#verdict-banner").wait_for(state="visible", timeout=HANG_GUARD_MS)


async def fetched(page: Any) -> None:
    """The page got its trust bundle from the server (it stamps ``#cache-age`` when one arrives)."""
    await page.locator("#cache-age[data-fetched-at]").wait_for(state="attached", timeout=HANG_GUARD_MS)


async def cached_bundle(page: Any) -> None:
    """The page has fetched its trust bundle and its service worker controls it."""
    await fetched(page)
    assert await page.locator("#cache-age").get_attribute("data-generated-at") != ""
    await page.evaluate(_CONTROLLED)


async def test_verifier_scans_online_then_offline_codes(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    served: str,
    browsers: Browsers,
    issuer: Any,
    make_citizen: Any,
    tmp_path: Path,
) -> None:
    username = await verifier_officer(db)
    holder = await make_citizen()
    licence = await issue(client, issuer)
    card = await issue(client, issuer, doc_type="chip_id_card", claims=id_card_claims())
    online = await presentation(client, holder, licence["id"], ["full_name", "photo_ref", "classes"], "online")
    offline = await presentation(
        client, holder, licence["id"], ["full_name", "photo_ref", "classes", "points"], "offline"
    )
    revoked = await presentation(client, holder, card["id"], ["id_number", "age_over_18"], "offline")
    r = await client.post(f"/v1/agency/documents/{card['id']}/revoke", headers=issuer, json={"reason": "lost"})
    assert r.status_code == 200, r.text

    # A wrong password is a message on the page; the right one opens the app.
    context = await browsers.launch(camera=qr_video(online["url"], tmp_path / "online.y4m"))
    page = context.pages[0] if context.pages else await context.new_page()
    await sign_in(page, served, username, "wrong password")
    await page.get_by_text("Wrong username or password").wait_for()
    await screenshot(page, "verify-sign-in-failed")
    await sign_in(page, served, username)
    await page.get_by_role("heading", name="Quét mã QR").wait_for()
    await cached_bundle(page)
    assert await scan(page) == "valid"
    assert "Checked with the server" in await page.locator("#verdict-detail").inner_text()
    assert await page.locator("#verdict-fields").inner_text() != ""
    assert "Nguyễn Văn Hùng" in await page.locator("#verdict").inner_text()
    assert "Điểm" not in await page.locator("#verdict-fields").inner_text()  # the points were not disclosed
    await screenshot(page, "verify-online-valid")
    # The same code again: already used.
    await page.locator("#payload").fill(online["url"])
    await page.get_by_role("button", name="Xác thực / Verify").click()
    await verdict(page, "code-refused")
    # A QR code that is not ours.
    await page.locator("#payload").fill("https://example.com/menu")
    await page.get_by_role("button", name="Xác thực / Verify").click()
    await verdict(page, "not-ours")
    await screenshot(page, "verify-not-ours")
    await context.close()

    # Offline: the network is cut; the page comes from the service worker and checks in the browser.
    tampered_text = offline["payload"][:40] + ("A" if offline["payload"][40] != "A" else "B") + offline["payload"][41:]
    cases = [
        ("offline", offline["payload"], "valid"),
        ("tampered", tampered_text, "tampered"),
        ("revoked", revoked["payload"], "revoked"),
    ]
    for name, text, expected in cases:
        context = await browsers.launch(camera=qr_video(text, tmp_path / f"{name}.y4m"))
        page = context.pages[0] if context.pages else await context.new_page()
        await page.goto(f"{served}/verify")
        await cached_bundle(page)
        await context.set_offline(True)
        await page.reload()
        await page.get_by_text("Offline: offline QR codes are checked on this device").wait_for()
        # How old the cached keys and lists are is on the page.
        assert "Keys and status lists updated" in await page.locator("#cache-age").inner_text()
        assert await scan(page) == expected, await page.locator("#verdict").inner_text()
        await screenshot(page, f"verify-offline-{name}")
        if name == "offline":
            text_shown = await page.locator("#verdict").inner_text()
            assert "Nguyễn Văn Hùng" in text_shown and "12" in text_shown
            # Cached lists older than their ttl give no verdict.
            bundle = json.loads(await page.evaluate("localStorage.getItem('cw-verify-trust')"))
            bundle["generated_at"] = int(time.time()) - 3600
            await page.evaluate("b => localStorage.setItem('cw-verify-trust', b)", json.dumps(bundle))
            await check_pasted(page, text)
            await verdict(page, "stale")
            await screenshot(page, "verify-offline-stale")
        if name == "revoked":
            # While the browser is offline the issuer revokes the licence. Back online, the page
            # refreshes its keys and lists at once: offline again, the licence's QR is refused.
            r = await client.post(
                f"/v1/agency/documents/{licence['id']}/revoke", headers=issuer, json={"reason": "withdrawn"}
            )
            assert r.status_code == 200, r.text
            assert await page.locator("#cache-age[data-fetched-at]").count() == 0  # offline since loading
            await context.set_offline(False)
            await fetched(page)
            await page.get_by_text("Online: codes are checked with the server").wait_for()
            await context.set_offline(True)
            await check_pasted(page, offline["payload"])
            await verdict(page, "revoked")
        await context.close()


async def test_denied_camera_and_expired_session_are_explained(
    db: asyncpg.Pool, served: str, browsers: Browsers
) -> None:
    username = await verifier_officer(db)
    context = await browsers.launch(camera_allowed=False, profile="denied")
    page = context.pages[0] if context.pages else await context.new_page()
    await sign_in(page, served, username)
    await app_running(page)
    await page.get_by_role("button", name="Bật camera / Start camera").click()
    await page.get_by_text("The camera was denied").wait_for(timeout=HANG_GUARD_MS)
    await screenshot(page, "verify-camera-denied")
    # A session cookie that no longer verifies: the sign-in page says the session expired.
    cookies = await context.cookies()
    session = next(c for c in cookies if c["name"] == "cw_session")
    await context.add_cookies([{**session, "value": session["value"][:-4] + "AAAA"}])
    await page.goto(f"{served}/verify")
    await page.get_by_text("Your session has expired").wait_for()


def resigned(genuine: str, key: SigningKey, *, iat: int, exp: int) -> str:
    """``genuine``'s claims and status entry, signed by ``key`` for the times given."""
    body = cbor2.loads(zlib.decompressobj(-15, zdict=OFFLINE_DICTIONARY).decompress(open_offline(genuine).payload))
    doc_type = get_type(body[-1])
    assert doc_type is not None
    return encode_offline(
        key,
        org_id=body[1],
        doc_type=doc_type,
        claims=licence_claims(),
        revealed={"full_name": "Nguyễn Văn Hùng", "points": 12},
        status_list_id=uuid.UUID(bytes=body[-2][0]),
        status_idx=body[-2][1],
        level=body[-4],
        iat=iat,
        exp=exp,
    )


def stranger_key(org_id: str) -> SigningKey:
    """A key that names ``org_id`` but that the issuer never published."""
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(private.public_key())
    return SigningKey(jwk_thumbprint(jwk), "issuer", org_id, jwk, private, dt.datetime.now(dt.UTC))


async def test_expired_and_unknown_issuer_verdicts_online_and_offline(
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    app: Any,
    served: str,
    browsers: Browsers,
    issuer: Any,
    make_citizen: Any,
) -> None:
    """An expired QR, an expired document, a QR signed by a key no issuer published and a tampered
    QR checked online: each a red verdict in Vietnamese and English that shows none of the
    holder's data."""
    username = await verifier_officer(db)
    holder = await make_citizen()
    licence = await issue(client, issuer)
    genuine = (await presentation(client, holder, licence["id"], ["full_name", "points"], "offline"))["payload"]
    now = int(time.time())
    real_key = await issuer_signing_key(db, app.state.services.keys, "csgt")
    expired_qr = resigned(genuine, real_key, iat=now - 2 * 86400, exp=now - 86400)
    forged_qr = resigned(genuine, stranger_key("csgt"), iat=now, exp=now + 3600)
    # One character changed, as in the offline check of the first test; here the server judges it.
    tampered_qr = genuine[:40] + ("A" if genuine[40] != "A" else "B") + genuine[41:]
    old_claims = licence_claims(
        issue_date="2015-06-10",
        expiry_date="2020-06-10",
        classes=[{"code": "B", "issue_date": "2015-06-10", "expiry_date": "2020-06-10"}],
    )
    old = await issue(client, issuer, ref="GPLX-2015", claims=old_claims)
    old_code = (await presentation(client, holder, old["id"], ["points"], "online"))["url"]

    context = await browsers.launch()
    page = context.pages[0] if context.pages else await context.new_page()
    await sign_in(page, served, username)
    await cached_bundle(page)
    expected = {
        "expired": ("HẾT HẠN", "EXPIRED", "Mã QR đã hết hạn", "expired"),
        "document-expired": ("HẾT HẠN", "EXPIRED", "Giấy tờ đã hết hạn", "expired on 2020-06-10"),
        "unknown-issuer": ("KHÔNG RÕ CƠ QUAN CẤP", "UNKNOWN ISSUER", "cơ quan hoặc khóa không xác định", "key"),
        "tampered": ("BỊ SỬA ĐỔI HOẶC HỎNG", "TAMPERED", "Mã QR đã bị sửa đổi hoặc bị hỏng", "QR"),
    }
    checks = [("online", expired_qr, "expired"), ("online", forged_qr, "unknown-issuer")]
    checks += [("online", old_code, "document-expired"), ("online", tampered_qr, "tampered")]
    checks += [("offline", expired_qr, "expired"), ("offline", forged_qr, "unknown-issuer")]
    for mode, text, cause in checks:
        if mode == "offline":
            await context.set_offline(True)
        await check_pasted(page, text)
        vi, en, vi_detail, en_detail = expected[cause]
        shown = page.locator("#verdict-banner")
        assert await shown.get_attribute("data-verdict") == ("expired" if cause.endswith("expired") else cause)
        assert "verdict-bad" in str(await shown.get_attribute("class"))
        assert await page.locator("#verdict-icon").inner_text() == "✗"
        assert (await page.locator("#verdict-vi").inner_text(), await page.locator("#verdict-en").inner_text()) == (
            vi,
            en,
        )
        detail = await page.locator("#verdict-detail").inner_text()
        assert vi_detail in detail and en_detail in detail, detail
        assert await page.locator("#verdict-facts").inner_text() == ""
        assert await page.locator("#verdict-fields").is_hidden()
        assert "Nguyễn" not in await page.locator("#verdict").inner_text()
        await screenshot(page, f"verify-{mode}-{cause}")


async def test_the_disclosed_portrait_is_a_picture_online_and_does_not_fit_offline(
    client: httpx.AsyncClient, db: asyncpg.Pool, served: str, browsers: Browsers, issuer: Any, make_citizen: Any
) -> None:
    username = await verifier_officer(db)
    holder = await make_citizen()
    licence = await issue(client, issuer, claims=licence_claims(portrait=portrait_uri()))
    code = await presentation(client, holder, licence["id"], ["full_name", "photo_ref", "portrait"], "online")
    # An offline QR code holds 600 characters: the portrait is for online codes only.
    r = await client.post(
        f"/v1/me/documents/{licence['id']}/offline-presentations",
        headers=holder.headers,
        json={"proof": presentation_proof(holder, licence["id"], ["full_name", "portrait"], mode="offline")},
    )
    assert r.status_code == 422 and r.json()["type"].endswith("/offline-payload-too-large"), r.text

    context = await browsers.launch()
    page = context.pages[0] if context.pages else await context.new_page()
    await sign_in(page, served, username)
    await app_running(page)
    await check_pasted(page, code["url"])
    await verdict(page, "valid")
    picture = page.get_by_role("img", name="Hình chân dung / Portrait")
    await picture.wait_for(timeout=HANG_GUARD_MS)
    # Drawn, not blocked by the page's Content-Security-Policy: the picture was decoded.
    assert await picture.evaluate("img => img.complete && img.naturalWidth") == 120
    assert "Nguyễn Văn Hùng" in await page.locator("#verdict-fields").inner_text()
    facts = await page.locator("#verdict-facts").inner_text()
    assert "Cục Cảnh sát giao thông" in facts and "2025-01-15 → 2035-06-10" in facts
    assert re.search(r"Mức định danh / Identification level\s+[12]\b", facts), facts
    assert "data:image" not in await page.locator("#verdict").inner_text()
    await screenshot(page, "verify-online-portrait")
