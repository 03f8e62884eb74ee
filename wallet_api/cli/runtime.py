"""Helpers shared by CLI commands: settings, embedded servers, async entry points."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from wallet_api.settings import Settings, SettingsError

__all__ = ["load_settings", "prepare_metrics_dir", "run_async", "services"]

T = TypeVar("T")


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def prepare_metrics_dir(settings: Settings, *, clear: bool) -> None:
    """Point prometheus_client at a shared directory before it is imported anywhere."""
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.metrics_dir).resolve()
    if clear and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


@contextlib.contextmanager
def services(settings: Settings) -> Iterator[Settings]:
    """Yield settings whose URLs point at running servers, starting embedded ones if needed."""
    if not settings.embedded:
        yield settings
        return
    if settings.env == "production":
        raise click.ClickException("production needs WALLET_DATABASE_URL and WALLET_REDIS_URL")
    from wallet_api.embedded import embedded_services

    with embedded_services(settings.data_dir, settings.database_url, settings.redis_url) as (db, rd):
        # Children (API and worker processes) read the same URLs from the environment.
        os.environ["WALLET_DATABASE_URL"] = db
        os.environ["WALLET_REDIS_URL"] = rd
        yield Settings.from_env()


def run_async(fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        import uvloop

        return uvloop.run(fn())
    except ImportError:
        return asyncio.run(fn())
