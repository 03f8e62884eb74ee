"""The problem-type registry (wallet_api/problem_types.py) against the code, docs/problems.md and OpenAPI."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import httpx

from wallet_api.problem_types import PROBLEM_TYPES
from wallet_api.problems import Problem

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("wallet_api", "documents", "payments", "notifications", "proofing", "consoles", "openid4vci")
#: A row of a slug table: backticked slugs in the first cell, statuses in the second.
_ROW = re.compile(r"^\| ((?:`[a-z0-9-]+`(?:, )?)+) \| ([0-9 /]+) \|", re.M)


def _literal_slugs(tree: ast.AST) -> Iterator[str]:
    """``slug="…"`` arguments and ``slug = "…"`` (or ``status, slug, title = …``) class attributes."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "slug" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    yield kw.value.value
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant | ast.Tuple):
            for target in node.targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                for name, value in zip(names, values, strict=False):
                    if isinstance(name, ast.Name) and name.id == "slug" and isinstance(value, ast.Constant):
                        yield str(value.value)


def _problem_classes() -> Iterator[type[Problem]]:
    for package in PACKAGES:
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    pending = [Problem]
    while pending:
        cls = pending.pop()
        yield cls
        pending.extend(cls.__subclasses__())


def _documented_in(text: str) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for cells in _ROW.finditer(text):
        statuses = {int(s) for s in re.findall(r"\d{3}", cells.group(2))}
        for slug in re.findall(r"`([a-z0-9-]+)`", cells.group(1)):
            found.setdefault(slug, set()).update(statuses)
    return found


def test_every_slug_the_code_raises_is_registered() -> None:
    unregistered = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for slug in _literal_slugs(ast.parse(path.read_text(), str(path))):
                if slug not in PROBLEM_TYPES:
                    unregistered[slug] = str(path.relative_to(REPO))
    assert unregistered == {}, "add these to wallet_api/problem_types.py and docs/problems.md"


def test_every_problem_a_class_declares_is_registered_with_its_status() -> None:
    declared = {(status, slug) for cls in _problem_classes() for status, slug, _ in cls.documented}
    declared |= {(cls.status, cls.slug) for cls in _problem_classes() if not cls.documented}
    assert declared
    assert {(status, slug) for status, slug in declared if status not in PROBLEM_TYPES.get(slug, ())} == set()


def test_the_registry_and_docs_problems_md_agree_both_ways() -> None:
    documented = _documented_in((REPO / "docs" / "problems.md").read_text())
    registered = {slug: set(statuses) for slug, statuses in PROBLEM_TYPES.items()}
    assert sorted(set(registered) - set(documented)) == [], "registered but not in docs/problems.md"
    assert sorted(set(documented) - set(registered)) == [], "in docs/problems.md but not registered"
    assert {s: (registered[s], documented[s]) for s in registered if registered[s] != documented[s]} == {}


def test_the_domain_documents_named_for_a_type_explain_it() -> None:
    text = (REPO / "docs" / "problems.md").read_text()
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| [0-9 /]+ \| \[[a-z0-9-]+\.md\]\(([a-z0-9-]+\.md)\) \|", text, re.M)
    assert rows
    missing = [(slug, doc) for slug, doc in rows if f"`{slug}`" not in (REPO / "docs" / doc).read_text()]
    assert missing == []


async def test_every_problem_in_the_openapi_document_is_registered(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    listed = set()
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    listed |= {(int(status), slug) for slug in re.findall(r"`([a-z0-9-]+)`:", response["description"])}
    assert len(listed) > 50
    unregistered = sorted((status, slug) for status, slug in listed if status not in PROBLEM_TYPES.get(slug, ()))
    assert unregistered == [], unregistered
