"""The welfare console in a real browser: programme, CSV enrolment with its per-row report,
a batch made by the maker and approved by another officer, release, live progress to 100%,
and the provider statement reconciled (tests/support/browser.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg

from payments.disbursement.dispatch import dispatch_once
from tests.disbursement.conftest import ORG, Agency, add_residents
from tests.disbursement.local_provider import LocalProvider
from tests.disbursement.test_reconciliation import _statement_csv
from tests.support.browser import Browsers, screenshot
from wallet_api.accounts.orgs import create_officer
from wallet_api.worker_context import WorkerContext

PASSWORD = "correct horse battery staple"
#: Keeps every value the upload progress bar takes (a <progress> reflects its value as the
#: attribute) where the next page of this tab can read it.
_RECORD_BAR = """bar => new MutationObserver(() => sessionStorage.setItem('enrol-progress-values',
    [sessionStorage.getItem('enrol-progress-values'), bar.getAttribute('value')].filter((v) => v !== null).join(',')))
    .observe(bar, {attributes: true, attributeFilter: ['value']})"""


async def officers(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        # The maker may also check, but never their own batch.
        await create_officer(
            conn, ORG, "maker.hn", "Lê Thị Hà", ["welfare_maker", "welfare_checker"], password=PASSWORD
        )
        await create_officer(conn, ORG, "checker.hn", "Trần Văn Bình", ["welfare_checker"], password=PASSWORD)
        await create_officer(conn, "platform", "ops.platform", "Vận hành", ["admin"], password=PASSWORD)


async def signed_in(browsers: Browsers, base: str, username: str) -> Any:
    context = await browsers.launch(profile=username)
    page = context.pages[0] if context.pages else await context.new_page()
    await page.goto(f"{base}/welfare")
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập / Sign in").click()
    await page.get_by_role("heading", name="Chương trình · Programmes").wait_for()
    return page


async def test_upload_batch_four_eyes_release_progress_and_reconciliation(
    db: asyncpg.Pool,
    agency: Agency,
    served: str,
    browsers: Browsers,
    worker_ctx: WorkerContext,
    provider: LocalProvider,
    tmp_path: Path,
) -> None:
    await officers(db)
    people = await add_residents(db, 3)
    maker = await signed_in(browsers, served, "maker.hn")
    await screenshot(maker, "welfare-programmes")

    # A programme.
    await maker.get_by_label("Tên / Name").fill("Trợ cấp người cao tuổi")
    await maker.get_by_label("Căn cứ pháp lý").fill("Nghị định 20/2021/NĐ-CP")
    await maker.get_by_label("Ngân sách (đồng)").fill("10000000")
    await maker.get_by_label("Mức cố định", exact=False).fill("500000")
    await maker.get_by_label("Mã tỉnh", exact=False).fill("001")
    await maker.get_by_role("button", name="Tạo / Create").click()
    await maker.locator("#enrol-form").wait_for()

    # A file that is not CSV: refused whole with a message, nothing enrolled.
    not_csv = tmp_path / "photo.csv"
    not_csv.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    await maker.get_by_label("Tệp CSV / CSV file").set_input_files(str(not_csv))
    await maker.get_by_role("button", name="Tải lên / Upload").click()
    await maker.locator("#enrol-message.error").wait_for()
    assert "person_id,amount,agency_reference" in await maker.locator("#enrol-message").inner_text()
    await screenshot(maker, "welfare-upload-not-csv")
    assert await db.fetchval("SELECT count(*) FROM beneficiaries") == 0

    # The list, with one refused row.
    rows = [f"{p.person_id},,HN-{i}" for i, p in enumerate(people)] + ["001099999999,,HN-X"]
    upload = tmp_path / "beneficiaries.csv"
    upload.write_text("person_id,amount,agency_reference\n" + "\n".join(rows) + "\n")
    await maker.get_by_label("Tệp CSV / CSV file").set_input_files(str(upload))
    # The page moves to the report once the upload is done: the bar's values are kept meanwhile.
    await maker.locator("#enrol-progress").evaluate(_RECORD_BAR)
    await maker.get_by_role("button", name="Tải lên / Upload").click()
    await maker.locator("#enrolment-totals").wait_for()
    shown = await maker.evaluate("sessionStorage.getItem('enrol-progress-values')")
    assert shown.split(",")[0] == "0" and shown.split(",")[-1] == "100", shown
    totals = await maker.locator("#enrolment-totals").inner_text()
    assert "4 dòng" in totals and "3 nhận" in totals and "1 từ chối" in totals
    await maker.get_by_label("Chỉ các dòng bị từ chối", exact=False).check()
    assert await maker.locator("#report tbody tr:visible").count() == 1
    assert "unknown_person" in await maker.locator("#report tbody tr:visible").inner_text()
    await screenshot(maker, "welfare-enrolment-report")
    async with maker.expect_download() as download:
        await maker.locator("#report-download").click()
    report = await asyncio.to_thread(Path(await (await download.value).path()).read_text)
    assert (
        report.splitlines()[0] == "line,person_id,amount,agency_reference,outcome,reason" and "unknown_person" in report
    )

    # The maker's batch: no approve button for them, and the server refuses them anyway.
    await maker.get_by_role("link", name="← Trợ cấp người cao tuổi").click()
    await maker.get_by_label("Kỳ (once hoặc YYYY-MM)", exact=False).fill("2026-12")
    await maker.get_by_label("Số khoản (kiểm soát)", exact=False).fill("3")
    await maker.get_by_label("Tổng tiền (kiểm soát", exact=False).fill("1500000")
    await maker.get_by_role("button", name="Tạo đợt chi / Create batch").click()
    await maker.locator("#maker-note").wait_for()
    assert await maker.get_by_role("button", name="Duyệt / Approve").count() == 0
    batch_url = maker.url
    await screenshot(maker, "welfare-batch-maker")
    status = await maker.evaluate(
        """async (csrf) => (await fetch(location.pathname + '/approve', {method: 'POST',
             headers: {'Content-Type': 'application/x-www-form-urlencoded'},
             body: new URLSearchParams({csrf_token: csrf, control_count: '3', control_sum: '1500000'})})).status""",
        await maker.locator('meta[name="csrf-token"]').get_attribute("content"),
    )
    assert status == 403
    assert await db.fetchval("SELECT state FROM batches") == "draft"

    # Another officer checks the totals, approves and releases; the progress goes live.
    checker = await signed_in(browsers, served, "checker.hn")
    await checker.goto(batch_url)
    assert "1,500,000" in await checker.locator("#control-sum").inner_text()
    await checker.get_by_label("Số khoản / Count").fill("3")
    await checker.get_by_label("Tổng tiền (đồng) / Sum (dong)").fill("1500000")
    await checker.get_by_role("button", name="Duyệt / Approve").click()
    await checker.locator('#batch-state[data-state="approved"]').wait_for()
    await checker.get_by_role("button", name="Giải ngân / Release").click()
    await checker.locator('#batch-state[data-state="released"]').wait_for()
    # One beneficiary's wallet was closed meanwhile: that payment fails (and is settled as such).
    provider.closed_wallets.add(str(people[2].wallet_account))
    while await dispatch_once(worker_ctx):  # the payout worker, in this process, paying the local provider
        pass
    await checker.locator('#progress-section[data-done="yes"]').wait_for(state="attached")
    assert await checker.locator("#progress-percent").inner_text() == "100"
    # The chart drew the settled payments over time.
    assert await checker.locator("#progress-chart polyline").get_attribute("points")
    await screenshot(checker, "welfare-batch-paid")
    # The lists drawn with the page say they are behind; reloaded, the failures list names
    # the failed payment and why, and no one was left unreached.
    # Reloaded, the chart is drawn from what the server counted: no live event is let through.
    await checker.route("**/events", lambda route: route.abort())
    await checker.get_by_role("link", name="reload").click()
    await checker.locator("#lists-stale").wait_for(state="hidden")
    drawn = str(await checker.locator("#progress-chart polyline").get_attribute("points")).split()
    assert len(drawn) >= 2 and drawn[-1].endswith(",10"), drawn  # up to every payment settled
    await checker.unroute("**/events")
    failures = await checker.locator("#failures tbody").inner_text()
    assert people[2].person_id in failures and "wallet_closed" in failures, failures
    assert people[0].person_id not in failures
    assert "Không có / None" in await checker.locator("#not-reached tbody").inner_text()
    await screenshot(checker, "welfare-batch-failures")

    # The platform operator reconciles the provider's statement.
    ops = await signed_in(browsers, served, "ops.platform")
    await ops.get_by_role("link", name="Đối soát / Reconciliation").click()
    await ops.get_by_label("Nhà cung cấp / Provider").fill("localpay")
    path = tmp_path / "statement.csv"
    path.write_bytes(await _statement_csv(provider))
    await ops.get_by_label("Tệp sao kê (CSV)", exact=False).set_input_files(str(path))
    await ops.get_by_role("button", name="Đối soát / Reconcile").click()
    result = await ops.locator("#reconciliation-result").inner_text()
    assert "matched\t2" in result or "matched 2" in result  # the failed payment is in no statement
    await screenshot(ops, "welfare-reconciliation")

    # The programme report shows the payments reconciled.
    await checker.get_by_role("link", name="Trợ cấp người cao tuổi", exact=False).click()
    assert "reconciled" in await checker.locator("#programme-report").inner_text()
    await screenshot(checker, "welfare-programme-report")

    # The maker's session ends before another upload: the page says so and leads to the
    # sign-in; nothing was enrolled.
    await maker.goto(batch_url)
    await maker.get_by_role("link", name="← Trợ cấp người cao tuổi").click()
    await maker.context.clear_cookies()
    await maker.get_by_label("Tệp CSV / CSV file").set_input_files(str(upload))
    await maker.get_by_role("button", name="Tải lên / Upload").click()
    await maker.locator("#enrol-message.error").wait_for()
    said = await maker.locator("#enrol-message").inner_text()
    assert "Phiên đăng nhập đã hết hạn" in said and "nothing was saved" in said, said
    assert await maker.locator("#enrol-progress").get_attribute("value") == "0"
    await screenshot(maker, "welfare-upload-session-expired")
    assert await db.fetchval("SELECT count(*) FROM enrolments") == 1
    assert await db.fetchval("SELECT count(*) FROM beneficiaries") == 3
    await maker.get_by_role("link", name="Đăng nhập lại / Sign in again").click()
    await maker.get_by_label("Tên đăng nhập").wait_for()
