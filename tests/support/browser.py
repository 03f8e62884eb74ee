"""Real-browser tests of the consoles: the app served on 127.0.0.1, Debian's Chromium via Playwright.

``served`` is the app served by ``wallet serve`` (tests/support/served.py).
``chromium`` launches /usr/bin/chromium (never Playwright's own downloads); when it is
missing the browser tests are skipped with a reason that says how to install it (failed
in CI: tests/support/tools.py).

Screenshots go to ``$WALLET_SCREENSHOTS`` (``make screenshots`` sets docs/img) when set.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import qrcode

from tests.support.tools import tool_missing

__all__ = ["CHROMIUM", "Browsers", "qr_video", "screenshot"]

CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = (
    "Chromium is not installed (/usr/bin/chromium): the console browser tests cannot run. "
    "Install it with `apt-get install -y chromium` (.ci/run does)."
)


@pytest.fixture(scope="session")
def served(served_api: str) -> str:
    """The base URL of the app served for real, for Chromium (skipped when it is missing)."""
    if not CHROMIUM.exists():
        tool_missing(NO_CHROMIUM)
    return served_api


class Browsers:
    """Launches Chromium contexts; each may feed its fake camera a different video."""

    def __init__(self, playwright: Any, profile: Path) -> None:
        self.playwright = playwright
        self.profile = profile
        self._open: list[Any] = []
        #: What Chromium refused under the pages' Content-Security-Policy (none is allowed).
        self.policy_violations: list[str] = []

    async def launch(self, *, camera: Path | None = None, camera_allowed: bool = True, profile: str = "main") -> Any:
        """A persistent context (its service worker and caches survive a relaunch with the same profile)."""
        args = ["--use-fake-device-for-media-stream", "--no-sandbox", "--disable-dev-shm-usage"]
        if camera is not None:
            args.append(f"--use-file-for-fake-video-capture={camera}")
        context = await self.playwright.chromium.launch_persistent_context(
            str(self.profile / profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=args,
            viewport={"width": 1000, "height": 900},
            locale="vi-VN",
        )
        # Waits are for what the page shows, never a measure of speed: on a loaded machine a
        # page may take long, so the bound only stops a broken page from hanging the run.
        context.set_default_timeout(180_000)
        context.on("console", self._on_console)
        if camera_allowed:
            await context.grant_permissions(["camera"])
        self._open.append(context)
        return context

    def _on_console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.policy_violations.append(message.text)

    async def close_all(self) -> None:
        for context in self._open:
            with contextlib.suppress(Exception):
                await context.close()
        self._open.clear()


@pytest.fixture
async def browsers(served: str, tmp_path: Path) -> AsyncIterator[Browsers]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = Browsers(pw, tmp_path / "profiles")
        try:
            yield b
        finally:
            await b.close_all()
        assert not b.policy_violations, b.policy_violations


def qr_video(text: str, path: Path, *, size: int = 600) -> Path:
    """A Y4M video (what Chromium's fake camera plays) showing ``text`` as a QR code."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    scale = size // len(matrix)
    offset = (size - scale * len(matrix)) // 2
    luma = bytearray(b"\xff" * size * size)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (offset + y * scale + dy) * size + offset + x * scale
                    luma[start : start + scale] = b"\x10" * scale
    chroma = b"\x80" * ((size // 2) * (size // 2))
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    path.write_bytes(f"YUV4MPEG2 W{size} H{size} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * 3)
    return path


async def screenshot(page: Any, name: str) -> None:
    """Save a screenshot for docs/consoles.md when ``WALLET_SCREENSHOTS`` names a folder."""
    folder = os.environ.get("WALLET_SCREENSHOTS")
    if folder:
        # Playwright makes the folder.
        await page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)
