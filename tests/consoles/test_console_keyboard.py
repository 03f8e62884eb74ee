"""Every console is usable with the keyboard alone, and every control says what it is
(Debian's Chromium, tests/support/browser.py): an officer signs in by typing and Enter, then
Tab reaches every visible control of the console's home page, each with a label or a name."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.consoles.test_pages import _organisations
from tests.consoles.test_sessions import PASSWORD
from tests.support.browser import Browsers

#: Numbers the page's visible controls and gives each one's accessible name (its labels, its
#: aria-label, or the text of a button or link).
_CONTROLS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])')]
  .filter((el) => el.checkVisibility())
  .map((el, i) => {
    el.dataset.kb = String(i);
    const labels = el.labels ? [...el.labels].map((l) => l.textContent).join(" ") : "";
    const text = ["A", "BUTTON"].includes(el.tagName) ? el.textContent : "";
    return [el.tagName.toLowerCase(), (labels || el.getAttribute("aria-label") || text).trim()];
  })"""

HOMES = {"verify": "Quét mã QR", "agency": "Tìm giấy tờ", "welfare": "Chương trình · Programmes"}


@pytest.mark.parametrize("console", sorted(HOMES))
async def test_sign_in_and_every_control_by_keyboard_with_a_name(
    db: asyncpg.Pool, served: str, browsers: Browsers, console: str
) -> None:
    await _organisations(db)
    context = await browsers.launch(profile=console)
    page: Any = context.pages[0] if context.pages else await context.new_page()
    await page.goto(f"{served}/{console}")
    # The username field has the focus; Tab moves to the password; Enter signs in.
    await page.locator("#username:focus").wait_for()
    await page.keyboard.type(f"{console}.officer")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name=HOMES[console]).wait_for()

    controls = await page.evaluate(_CONTROLS)
    assert controls and all(name for _, name in controls), controls
    reached: set[int] = set()
    for _ in range(len(controls) + 3):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement && document.activeElement.dataset.kb")
        if focused is not None:
            reached.add(int(focused))
    assert reached == set(range(len(controls))), [c for i, c in enumerate(controls) if i not in reached]
