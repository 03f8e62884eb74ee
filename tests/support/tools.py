"""Tests that need a tool outside Python (Chromium, Node.js): skipped without it, failed in CI.

On a developer's machine a missing tool skips its tests with a reason that says how to
install it (``make test`` prints a note first). In CI (``CI`` set; ``.ci/run`` sets it after
installing the tools) the same absence fails the test: there a skip would hide that the
console pages or the standards were never checked.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["tool_missing"]


def tool_missing(reason: str) -> NoReturn:
    """Skip the calling test, or fail it under CI, with ``reason``."""
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
