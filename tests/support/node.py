"""Independent implementations in Node.js (tests/interop): run one ``.mjs`` script, JSON in, JSON out.

A script reads one JSON value on stdin and writes one JSON value on stdout (its helpers in
``tests/interop/lib/harness.mjs``); whatever it writes on stderr is shown when it fails.
``node`` runs scripts that need no server; ``node_served`` runs them against the app served
for real, with the script's ``fetch`` sending our public origins (``settings.public_base_url``
and the ``vct`` host https://citizenwallet.vn) to that server, as DNS would in production.

The npm packages are pinned in tests/interop/package-lock.json and installed by ``make test``
(``npm ci``). Without Node.js the interop tests are skipped with a reason that says how to
install it, as the Chromium tests are; in CI (``CI`` set, as ``.ci/run`` does) they fail
instead (tests/support/tools.py), because there they are the proof that we speak the standards.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from tests.support.tools import tool_missing
from wallet_api.settings import Settings

__all__ = ["INTEROP", "VCT_ORIGIN", "Node", "NodeScriptError"]

INTEROP = Path(__file__).resolve().parents[1] / "interop"
#: The host of every ``vct`` (documents/types/base.py): our production host.
VCT_ORIGIN = "https://citizenwallet.vn"
#: The packages' own floor (their package.json "engines").
MIN_NODE = 20
_INSTALLED = INTEROP / "node_modules" / ".installed"
_INSTALL = "make tests/interop/node_modules/.installed (make test does it)"


class NodeScriptError(AssertionError):
    """A script exited non-zero, timed out or did not print JSON; the message carries its stderr."""


@functools.cache
def _node_major() -> int | None:
    if shutil.which("node") is None:
        return None
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    return int(version.strip().lstrip("v").split(".")[0])


def _unavailable() -> str | None:
    """Why the interop scripts cannot run here, or None."""
    major = _node_major()
    if major is None or major < MIN_NODE:
        found = "not installed" if major is None else f"version {major}"
        return (
            f"Node.js {MIN_NODE} or later is needed by the interop tests (tests/interop), found {found}. "
            "Install it with `apt-get install -y nodejs npm` (.ci/run does), then " + _INSTALL + "."
        )
    lock = INTEROP / "package-lock.json"
    if not _INSTALLED.exists() or _INSTALLED.stat().st_mtime < lock.stat().st_mtime:
        return "The interop npm packages are not installed or older than package-lock.json: run " + _INSTALL + "."
    return None


def require_node() -> None:
    """Skip (or, in CI, fail) the calling test when the scripts cannot run."""
    reason = _unavailable()
    if reason is not None:
        tool_missing(reason)


@dataclass(frozen=True)
class Node:
    """Runs scripts of tests/interop; ``origins`` maps an origin the script fetches to where it is served."""

    origins: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 120.0

    def served_at(self, origins: Mapping[str, str]) -> Node:
        """The same runner with more origins sent elsewhere (e.g. a second served app)."""
        return replace(self, origins={**self.origins, **origins})

    async def run(self, script: str, payload: Any = None) -> Any:
        """Run ``tests/interop/<script>`` with ``payload`` as JSON on stdin; its stdout parsed as JSON.

        ``timeout`` only stops a stuck script from hanging the run; it is not a measure of speed."""
        path = INTEROP / script
        if not path.is_file():
            raise FileNotFoundError(path)
        env = {**os.environ, "INTEROP_ORIGINS": json.dumps(dict(self.origins)), "NODE_NO_WARNINGS": "1"}
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(path),
            cwd=INTEROP,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(json.dumps(payload).encode()), self.timeout)
        except TimeoutError:
            proc.kill()
            out, err = await proc.communicate()
            raise NodeScriptError(f"{script} did not finish in {self.timeout} s\n{err.decode()}") from None
        if proc.returncode != 0:
            raise NodeScriptError(f"{script} exited {proc.returncode}:\n{err.decode(errors='replace')}")
        try:
            return json.loads(out)
        except ValueError:
            raise NodeScriptError(f"{script} printed no JSON: {out[:500]!r}\n{err.decode(errors='replace')}") from None


@pytest.fixture
def node() -> Node:
    """Runs tests/interop scripts that need no server (the test is skipped or failed without Node.js)."""
    require_node()
    return Node()


@pytest.fixture
def node_served(node: Node, served_api: str, settings: Settings) -> Node:
    """Runs tests/interop scripts against the app served for real (our public origins go to it)."""
    return node.served_at({settings.public_base_url: served_api, VCT_ORIGIN: served_api})
