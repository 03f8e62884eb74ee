"""The problems a route can answer, read from its code rather than written beside it.

:func:`problems_raised` reads the source of a function (a route handler or a guard) and of
every function of ours it calls, transitively, and collects each ``raise X(...)`` — and each
``return X(...)`` of a helper that builds the problem its caller raises — where ``X`` is a
:class:`~wallet_api.problems.Problem` class: its status and slug, from the call's literal
``slug=``/``status=`` arguments or the class's own. A problem class whose slug is chosen at
run time lists what it can answer in ``documented`` (e.g. a verification refusal).

It over-approximates (a branch never taken still counts) and misses what it cannot resolve
statically (a method of an object, a problem built from a variable); the OpenAPI test
checks every problem actually answered by every route against the document.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wallet_api.problems import Problem

__all__ = ["ProblemDoc", "problems_raised"]

#: Packages whose functions are followed; anything else (the framework, libraries) is not ours to read.
_OURS = ("wallet_api", "documents", "payments", "notifications", "proofing", "consoles", "openid4vci")
_MAX_DEPTH = 12


@dataclass(frozen=True, order=True)
class ProblemDoc:
    status: int
    slug: str
    title: str


def _ours(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.split(".", 1)[0] in _OURS


def _namespace(fn: Any) -> dict[str, Any]:
    names: dict[str, Any] = dict(getattr(fn, "__globals__", {}))
    closure = getattr(fn, "__closure__", None) or ()
    for name, cell in zip(fn.__code__.co_freevars, closure, strict=False):
        try:
            names[name] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    return names


def _resolve(node: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, names)
        return getattr(owner, node.attr, None) if inspect.ismodule(owner) or inspect.isclass(owner) else None
    return None


def _literal(call: ast.Call, name: str, names: dict[str, Any]) -> Any:
    """The argument's value if it is a literal or names a module's constant (``slug=HOLDER_UNKNOWN``)."""
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
        if kw.arg == name and isinstance(kw.value, ast.Name) and isinstance(names.get(kw.value.id), str | int):
            return names[kw.value.id]
    return None


def _documented(cls: type[Problem], call: ast.Call, names: dict[str, Any]) -> set[ProblemDoc]:
    listed: tuple[tuple[int, str, str], ...] | None = getattr(cls, "documented", None)
    if listed:
        return {ProblemDoc(*entry) for entry in listed}
    slug = _literal(call, "slug", names) or cls.slug
    status = _literal(call, "status", names) or cls.status
    title = _literal(call, "title", names) or cls.title
    return {ProblemDoc(int(status), str(slug), str(title))}


@functools.cache
def _parsed(code: Any, fn: Callable[..., Any]) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def problems_raised(fn: Any, _seen: set[Any] | None = None, _depth: int = 0) -> set[ProblemDoc]:
    """Problems ``fn`` (or a function of ours it calls) may raise."""
    fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    seen = set() if _seen is None else _seen
    if code is None or code in seen or _depth > _MAX_DEPTH or not _ours(fn):
        return set()
    seen.add(code)
    tree = _parsed(code, fn)
    if tree is None:
        return set()
    names = _namespace(fn)
    found: set[ProblemDoc] = set()
    for node in ast.walk(tree):
        built = node.exc if isinstance(node, ast.Raise) else node.value if isinstance(node, ast.Return) else None
        if isinstance(built, ast.Call):
            cls = _resolve(built.func, names)
            if inspect.isclass(cls) and issubclass(cls, Problem):
                found |= _documented(cls, built, names)
        if isinstance(node, ast.Call):
            target = _resolve(node.func, names)
            if inspect.isfunction(target) or inspect.ismethod(target):
                found |= problems_raised(target, seen, _depth + 1)
            elif inspect.isclass(target) and _ours(target) and not issubclass(target, Problem):
                found |= problems_raised(getattr(target, "__init__", None), seen, _depth + 1)
    return found
