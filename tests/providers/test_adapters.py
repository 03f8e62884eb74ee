"""Provider adapters are plugins named by configuration; the simulator is no part of production."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from payments.providers import ProviderRegistry, adapter_named, adapter_names
from payments.providers.adapters.http import HttpWalletProvider
from tests.support.settings import replaced
from wallet_api.settings import Settings, SettingsError

REPO = Path(__file__).resolve().parents[2]


def _entry(**changes: object) -> dict[str, object]:
    return {
        "code": "momo",
        "name": "MoMo",
        "base_url": "http://127.0.0.1:9",
        "api_key": "k",
        "webhook_secret": "s",
        **changes,
    }


def _with_providers(settings: Settings, *entries: dict[str, object]) -> Settings:
    return replaced(settings, providers=json.dumps(list(entries)))


async def test_a_provider_names_its_adapter_and_gets_it(settings: Settings, redis: aioredis.Redis) -> None:
    registry = ProviderRegistry(_with_providers(settings, _entry(adapter="http")), redis)
    try:
        assert isinstance(registry.get("momo"), HttpWalletProvider)
        assert registry.get("momo") is registry.get("momo")  # one adapter per provider per process
    finally:
        await registry.aclose()


async def test_without_an_adapter_a_provider_speaks_the_documented_http_api(
    settings: Settings, redis: aioredis.Redis
) -> None:
    registry = ProviderRegistry(_with_providers(settings, _entry()), redis)
    try:
        assert registry.config("momo").adapter == "http"
        assert isinstance(registry.get("momo"), HttpWalletProvider)
    finally:
        await registry.aclose()


def test_an_unknown_adapter_is_refused_when_the_configuration_is_read(
    settings: Settings, redis: aioredis.Redis
) -> None:
    with pytest.raises(SettingsError, match=r"provider momo: no adapter 'soap' \(adapters: http\)"):
        ProviderRegistry(_with_providers(settings, _entry(adapter="soap")), redis)


def test_an_adapter_checks_its_own_options(settings: Settings, redis: aioredis.Redis) -> None:
    with pytest.raises(SettingsError, match="adapter http takes no options"):
        ProviderRegistry(_with_providers(settings, _entry(options={"partner_code": "X"})), redis)
    with pytest.raises(SettingsError, match="options must be an object"):
        ProviderRegistry(_with_providers(settings, _entry(options=["x"])), redis)


def test_each_adapter_folder_exports_the_adapter_of_its_name() -> None:
    folders = sorted(p.name for p in (REPO / "payments/providers/adapters").iterdir() if (p / "__init__.py").exists())
    assert adapter_names() == folders
    for name in folders:
        adapter = adapter_named(name)
        assert adapter is not None and adapter.name == name


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_production_packages_never_import_the_simulators() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = [p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    assert "simulators" not in shipped
    offenders = [
        f"{path.relative_to(REPO)} imports {name}"
        for package in shipped
        for path in sorted((REPO / package).rglob("*.py"))
        for name in _imported_modules(path)
        if name == "simulators" or name.startswith("simulators.")
    ]
    assert offenders == []
    copied = re.findall(r"^COPY (\S+) ", (REPO / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE)
    assert "simulators" not in copied
    assert set(shipped) <= set(copied)  # the image holds every package the service imports
