"""Domains import the kernel only through its face, ``wallet_api.kernel`` (issue 15, item 6).

An AST scan of the domain packages' source: any ``from wallet_api.<module> import`` or
``import wallet_api.<module>`` of a kernel module other than the face fails, wherever it
stands (top level, inside a function, under ``TYPE_CHECKING``). Imports between domains
(payments reading the accounts domain's views) are domain contracts and stay allowed.
Tests, bench and scripts are not domains and may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

from wallet_api import kernel

ROOT = Path(__file__).resolve().parents[2]
FACE = "wallet_api.kernel"
DOMAIN_DIRS = (
    "documents",
    "openid4vci",
    "openid4vp",
    "payments",
    "notifications",
    "proofing",
    "consoles",
    "wallet_api/accounts",
)


def is_kernel_module(module: str | None) -> bool:
    """A ``wallet_api`` module that is not the face and not the accounts domain."""
    if module is None or module == FACE:
        return False
    in_accounts = module == "wallet_api.accounts" or module.startswith("wallet_api.accounts.")
    return (module == "wallet_api" or module.startswith("wallet_api.")) and not in_accounts


def kernel_imports_past_the_face() -> list[str]:
    found = []
    for directory in DOMAIN_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules = [node.module]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found += [f"{where} imports {m}" for m in modules if is_kernel_module(m)]
    return found


def test_domains_import_the_kernel_only_through_its_face() -> None:
    assert kernel_imports_past_the_face() == []


def test_every_name_the_face_exports_exists() -> None:
    missing = [name for name in kernel.__all__ if not hasattr(kernel, name)]
    assert missing == []
    assert kernel.__all__ == sorted(set(kernel.__all__), key=kernel.__all__.index)


def test_the_face_imports_no_domain_and_not_the_app() -> None:
    tree = ast.parse((ROOT / "wallet_api" / "kernel.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert all(is_kernel_module(m) or m == "__future__" for m in imported), imported
    assert "wallet_api.app" not in imported
