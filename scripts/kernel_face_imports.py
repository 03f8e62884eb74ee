"""Rewrite the domains' imports of kernel modules to import from the kernel's face.

Re-runnable: ``python scripts/kernel_face_imports.py`` rewrites every ``from wallet_api.<kernel
module> import ...`` in the domain packages to ``from wallet_api.kernel import ...`` (keeping
each name's local name), then ``ruff check --fix`` and ``ruff format`` merge and sort them.
Names the face does not export are reported and left alone.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.foundation.test_kernel_face import DOMAIN_DIRS, FACE, is_kernel_module  # noqa: E402
from wallet_api import kernel  # noqa: E402

# Kernel names the face exports under another name: (module, name) -> face name.
RENAMED = {
    ("wallet_api.bodylimits", "CALLBACK"): "CALLBACK_BODY_LIMIT",
    ("wallet_api.bodylimits", "FILE"): "FILE_BODY_LIMIT",
    ("wallet_api.cli.runtime", "services"): "cli_services",
    ("wallet_api.jsonbody", "decode"): "decode_json",
}

# Kernel modules a domain imported whole (``from wallet_api import audit``): ``audit.record``
# becomes the face's ``record``.
MODULE_ATTRIBUTES = {
    "audit": {"record": "record"},
    "bodylimits": {"CALLBACK": "CALLBACK_BODY_LIMIT", "FILE": "FILE_BODY_LIMIT"},
    "jsonbody": {"JsonTooDeep": "JsonTooDeep", "decode": "decode_json"},
}


def unwrap_modules(source: str) -> str:
    """``from wallet_api import audit`` and ``audit.record(...)`` -> the face's ``record``."""
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "wallet_api"):
            continue
        modules = [a.name for a in node.names if a.asname is None and a.name in MODULE_ATTRIBUTES]
        if len(modules) != len(node.names):
            continue
        used = []
        for module in modules:
            for attribute, face_name in MODULE_ATTRIBUTES[module].items():
                pattern = rf"\b{module}\.{attribute}\b"
                if re.search(pattern, source):
                    source = re.sub(pattern, face_name, source)
                    used.append(face_name)
        lines = source.splitlines(keepends=True)
        lines[node.lineno - 1 : node.end_lineno] = [f"from {FACE} import {', '.join(sorted(used))}\n"]
        return unwrap_modules("".join(lines))
    return source


def rewrite(path: Path) -> list[str]:
    original = path.read_text()
    source = unwrap_modules(original)
    lines = source.splitlines(keepends=True)
    missing: list[str] = []
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.ImportFrom) and node.level == 0 and is_kernel_module(node.module)):
            continue
        names = []
        for alias in node.names:
            face_name = RENAMED.get((str(node.module), alias.name), alias.name)
            if face_name not in kernel.__all__:
                missing.append(f"{path}:{node.lineno}: {node.module}.{alias.name}")
                break
            local = alias.asname or alias.name
            names.append(face_name if local == face_name else f"{face_name} as {local}")
        else:
            indent = lines[node.lineno - 1][: node.col_offset]
            edits.append(
                (node.lineno, int(node.end_lineno or node.lineno), f"{indent}from {FACE} import {', '.join(names)}\n")
            )
    for start, end, text in sorted(edits, reverse=True):
        lines[start - 1 : end] = [text]
    if edits or source != original:
        path.write_text("".join(lines))
    return missing


def main() -> int:
    missing = [m for d in DOMAIN_DIRS for p in sorted((ROOT / d).rglob("*.py")) for m in rewrite(p)]
    for m in missing:
        print("not in the face:", m)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
