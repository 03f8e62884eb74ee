"""The installed package (the Docker image installs it, not the work tree) carries every
file the code reads: templates, static files, SQL, Lua, JSON. A page added in a new folder
without a ``package-data`` line works from the work tree and 500s in the image."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _setuptools() -> dict[str, object]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools: dict[str, object] = pyproject["tool"]["setuptools"]
    return setuptools


def _covered(path: Path, package_data: dict[str, list[str]]) -> bool:
    """Whether a ``package-data`` entry names this file: "*" for any package, else the
    dotted package and patterns relative to its folder."""
    for package, patterns in package_data.items():
        base = REPO if package == "*" else REPO.joinpath(*package.split("."))
        if package == "*":
            if any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns):
                return True
            continue
        if base not in path.parents:
            continue
        relative = path.relative_to(base).as_posix()
        # setuptools' globs do not cross folders: "static/*" is not "static/vendor/x".
        depth = relative.count("/")
        if any(fnmatch.fnmatch(relative, pattern) and depth == pattern.count("/") for pattern in patterns):
            return True
    return False


def test_every_data_file_of_a_shipped_package_is_installed() -> None:
    setuptools = _setuptools()
    find = setuptools["packages"]
    assert isinstance(find, dict)
    shipped = [p.rstrip("*") for p in find["find"]["include"]]
    package_data = setuptools["package-data"]
    assert isinstance(package_data, dict)
    missing = [
        path.relative_to(REPO).as_posix()
        for package in shipped
        for path in sorted((REPO / package).rglob("*"))
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
        if not _covered(path, package_data)
    ]
    assert missing == []
