"""The verifier web app at /verify, in a real browser (tests/support/browser.py).

The officer signs in, scans QR codes shown to Chromium's fake camera and reads the verdict:
an online code checked by the server; then, with the network cut, offline QR codes checked
in the page against the keys and status lists its service worker cached (valid, tampered,
revoked), and a refusal once that cache is older than the lists' ttl.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.documents.conftest import Citizen, id_card_claims, issue, presentation_proof
from tests.support.browser import Browsers, qr_video, screenshot
from wallet_api.accounts.orgs import create_officer

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


async def scan(page: Any) -> str:
    await page.get_by_role("button", name="Bật camera / Start camera").click()
    banner = page.locator("#verdict-banner")
    await banner.wait_for(state="visible", timeout=30000)
    return str(await banner.get_attribute("data-verdict"))


async def until(page: Any, expression: str) -> None:
    """Poll ``expression`` in the page (wait_for_function would need eval, which our CSP forbids)."""
    deadline = time.monotonic() + 30
    while not await page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        await asyncio.sleep(0.2)


async def verdict(page: Any, expected: str) -> None:
    await page.locator(f'#verdict-banner[data-verdict="{expected}"]').wait_for(timeout=30000)


async def cached_bundle(page: Any) -> None:
    await until(page, "document.getElementById('cache-age').dataset.generatedAt !== ''")
    await until(page, "navigator.serviceWorker.controller !== null")


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
        assert await scan(page) == expected, await page.locator("#verdict").inner_text()
        await screenshot(page, f"verify-offline-{name}")
        if name == "offline":
            text_shown = await page.locator("#verdict").inner_text()
            assert "Nguyễn Văn Hùng" in text_shown and "12" in text_shown
            # Cached lists older than their ttl give no verdict.
            bundle = json.loads(await page.evaluate("localStorage.getItem('cw-verify-trust')"))
            bundle["generated_at"] = int(time.time()) - 3600
            await page.evaluate("b => localStorage.setItem('cw-verify-trust', b)", json.dumps(bundle))
            await page.locator("#payload").fill(text)
            await page.get_by_role("button", name="Xác thực / Verify").click()
            await verdict(page, "stale")
            await screenshot(page, "verify-offline-stale")
        if name == "revoked":
            # Back online, the page refreshes its keys and lists at once.
            before = await page.locator("#cache-age").get_attribute("data-generated-at")
            await context.set_offline(False)
            await page.locator(f'#cache-age:not([data-generated-at="{before}"])').wait_for(state="attached")
            await page.get_by_text("Online: codes are checked with the server").wait_for()
        await context.close()


async def test_denied_camera_and_expired_session_are_explained(
    db: asyncpg.Pool, served: str, browsers: Browsers
) -> None:
    username = await verifier_officer(db)
    context = await browsers.launch(camera_allowed=False, profile="denied")
    page = context.pages[0] if context.pages else await context.new_page()
    await sign_in(page, served, username)
    await page.get_by_role("button", name="Bật camera / Start camera").click()
    await page.get_by_text("The camera was denied").wait_for()
    await screenshot(page, "verify-camera-denied")
    # A session cookie that no longer verifies: the sign-in page says the session expired.
    cookies = await context.cookies()
    session = next(c for c in cookies if c["name"] == "cw_session")
    await context.add_cookies([{**session, "value": session["value"][:-4] + "AAAA"}])
    await page.goto(f"{served}/verify")
    await page.get_by_text("Your session has expired").wait_for()
