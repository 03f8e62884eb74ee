"""The issuing agency console in a real browser: find, issue, suspend (the verifier then sees
``suspended``), reinstate, revoke with a reason, and a bulk upload with refused rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.documents.conftest import ISSUER_TYPES, Citizen, add_to_registry, licence_claims
from tests.documents.test_verifier_web import PASSWORD, app_running, presentation, verifier_officer
from tests.support.browser import Browsers, screenshot
from wallet_api.accounts.orgs import create_officer


async def operator(db: asyncpg.Pool) -> str:
    """The traffic police's console operator; the sample claims' holder is in the registry."""
    await add_to_registry(db, "001090012345")
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO organisations (id, kind, name, document_types) VALUES ('csgt', 'issuer', $1, $2)",
            "Cục Cảnh sát giao thông",
            ISSUER_TYPES,
        )
        await create_officer(conn, "csgt", "operator.csgt", "Operator", ["issuer_operator"], password=PASSWORD)
    return "operator.csgt"


async def sign_in(page: Any, base: str, console: str, username: str) -> None:
    await page.goto(f"{base}/{console}")
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập / Sign in").click()


async def test_issue_suspend_and_the_verifier_sees_suspended(
    client: httpx.AsyncClient, db: asyncpg.Pool, served: str, browsers: Browsers, make_citizen: Any, tmp_path: Path
) -> None:
    username = await operator(db)
    holder: Citizen = await make_citizen()
    context = await browsers.launch()
    page = context.pages[0] if context.pages else await context.new_page()
    await sign_in(page, served, "agency", username)
    await page.get_by_role("heading", name="Tìm giấy tờ").wait_for()
    await screenshot(page, "agency-home")

    # Claims the type refuses: a clear message, nothing stored.
    await page.get_by_label("Loại giấy tờ").select_option("driving_licence")
    await page.get_by_label("Số hiệu của cơ quan", exact=False).nth(1).fill("GPLX-0001")
    await page.get_by_label("Số định danh người được cấp").fill(holder.person_id)
    await page.locator("#claims").fill(json.dumps(licence_claims(points=99)))
    await page.get_by_role("button", name="Cấp / Issue").click()
    await page.locator("#problem").wait_for()
    assert "claims.points" in await page.locator("#problem").inner_text()
    await screenshot(page, "agency-issue-refused")
    assert await db.fetchval("SELECT count(*) FROM documents") == 0

    await page.go_back()
    await page.locator("#claims").fill(json.dumps(licence_claims()))
    await page.get_by_role("button", name="Cấp / Issue").click()
    await page.locator("#state").wait_for()
    assert await page.locator("#state").get_attribute("data-state") == "active"
    doc_id = str(await db.fetchval("SELECT id FROM documents WHERE agency_ref = 'GPLX-0001'"))
    await screenshot(page, "agency-document")

    # Find it by the agency's number.
    await page.goto(f"{served}/agency")
    await page.get_by_label("Số hiệu của cơ quan", exact=False).first.fill("GPLX-0001")
    await page.get_by_role("button", name="Tìm / Find").click()
    await page.locator("#found a").click()

    # The holder shows the licence (online code, offline QR) before it is suspended.
    code = await presentation(client, holder, doc_id, ["full_name", "photo_ref"], "online")
    offline = await presentation(client, holder, doc_id, ["full_name", "photo_ref"], "offline")
    await page.get_by_label("Lý do").fill("under investigation")
    await page.get_by_role("button", name="Tạm đình chỉ / Suspend").click()
    await page.locator("#done").wait_for()
    assert await page.locator("#state").get_attribute("data-state") == "suspended"
    await screenshot(page, "agency-suspended")

    # The verifier web app sees it suspended: online, and offline from the status list it cached.
    verifier = await verifier_officer(db)
    vpage = await context.new_page()
    await sign_in(vpage, served, "verify", verifier)
    await app_running(vpage)
    await vpage.locator("#payload").fill(code["url"])
    await vpage.get_by_role("button", name="Xác thực / Verify").click()
    await vpage.locator('#verdict-banner[data-verdict="suspended"]').wait_for()
    await screenshot(vpage, "verify-online-suspended")
    await vpage.locator('#cache-age:not([data-generated-at=""])').wait_for(state="attached")
    await context.set_offline(True)
    await vpage.locator("#payload").fill(offline["payload"])
    await vpage.get_by_role("button", name="Xác thực / Verify").click()
    await vpage.locator('#verdict-banner[data-verdict="suspended"]').wait_for()
    await context.set_offline(False)
    await vpage.close()

    # Reinstate, then revoke: a reason is required.
    await page.get_by_role("button", name="Khôi phục / Reinstate").click()
    await page.locator('#state[data-state="active"]').wait_for()
    await page.get_by_role("button", name="Thu hồi / Revoke").click()
    await page.locator("#problem").wait_for()
    assert "reason" in await page.locator("#problem").inner_text()
    await page.go_back()
    await page.get_by_label("Lý do").fill("licence withdrawn by court order")
    await page.get_by_role("button", name="Thu hồi / Revoke").click()
    await page.locator('#state[data-state="revoked"]').wait_for()


async def test_bulk_upload_reports_every_row(db: asyncpg.Pool, served: str, browsers: Browsers, tmp_path: Path) -> None:
    username = await operator(db)
    good = {"doc_type": "driving_licence", "agency_ref": "B-1", "holder_id": "001090012345", "claims": licence_claims()}
    bad = {**good, "agency_ref": "B-2", "claims": licence_claims(points=99)}
    upload = tmp_path / "register.ndjson"
    upload.write_text("\n".join([json.dumps(good), "not json", json.dumps(bad)]) + "\n")
    context = await browsers.launch()
    page = context.pages[0] if context.pages else await context.new_page()
    await sign_in(page, served, "agency", username)
    await page.get_by_label("Tệp / File").set_input_files(str(upload))
    await page.get_by_role("button", name="Tải lên / Upload").click()
    totals = await page.locator("#bulk-totals").inner_text()
    assert "1 cấp mới" in totals and "2 bị từ chối" in totals
    await page.get_by_label("Chỉ các dòng bị từ chối", exact=False).check()
    visible = await page.locator("#report tbody tr:visible").count()
    assert visible == 2
    await screenshot(page, "agency-bulk-report")
    assert await db.fetchval("SELECT count(*) FROM documents") == 1


async def _saved(db: asyncpg.Pool) -> tuple[int, int, int, int]:
    """The licence's version and points, and how many update events and audit entries exist."""
    row = await db.fetchrow("SELECT version, claims FROM documents WHERE agency_ref = 'GPLX-0002'")
    claims = row["claims"] if isinstance(row["claims"], dict) else json.loads(row["claims"])
    events = await db.fetchval("SELECT count(*) FROM outbox WHERE topic = 'document.updated'")
    audits = await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'document.update'")
    return row["version"], claims["points"], events, audits


async def test_update_shows_the_new_version_and_bad_contents_change_nothing(
    db: asyncpg.Pool, served: str, browsers: Browsers, make_citizen: Any
) -> None:
    username = await operator(db)
    holder: Citizen = await make_citizen()
    context = await browsers.launch()
    page = context.pages[0] if context.pages else await context.new_page()
    await sign_in(page, served, "agency", username)
    await page.get_by_label("Loại giấy tờ").select_option("driving_licence")
    await page.get_by_label("Số hiệu của cơ quan", exact=False).nth(1).fill("GPLX-0002")
    await page.get_by_label("Số định danh người được cấp").fill(holder.person_id)
    await page.locator("#claims").fill(json.dumps(licence_claims()))
    await page.get_by_role("button", name="Cấp / Issue").click()
    await page.locator('#state[data-state="active"]').wait_for()
    assert await page.locator("#version").inner_text() == "1"

    # The operator edits the contents: points 12 → 9. The page shows the new version and contents.
    edited = json.loads(await page.get_by_label("Nội dung (JSON)", exact=False).input_value())
    edited["points"] = 9
    await page.get_by_label("Nội dung (JSON)", exact=False).fill(json.dumps(edited, ensure_ascii=False))
    await page.get_by_role("button", name="Cập nhật / Update").click()
    await page.locator("#done").wait_for()
    assert "update" in await page.locator("#done").inner_text()
    assert await page.locator("#version").inner_text() == "2"
    assert json.loads(await page.get_by_label("Nội dung (JSON)", exact=False).input_value())["points"] == 9
    await screenshot(page, "agency-updated")
    saved = await _saved(db)
    assert saved == (2, 9, 1, 1)

    # Contents that are not JSON, then contents the type refuses: each a clear message naming
    # the field, and nothing of it saved (no new version, event or audit entry).
    for text, named in [('{"points": 9,', "claims"), (json.dumps(licence_claims(points=99)), "claims.points")]:
        await page.get_by_label("Nội dung (JSON)", exact=False).fill(text)
        await page.get_by_role("button", name="Cập nhật / Update").click()
        problem = page.locator("#problem")
        await problem.wait_for()
        assert named in await problem.inner_text() and "Traceback" not in await problem.inner_text()
        await screenshot(page, "agency-update-refused")
        assert await _saved(db) == saved
        await page.go_back()
        await page.locator("#version").wait_for()
