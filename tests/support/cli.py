"""Running ``wallet`` commands in their own process against the test servers."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from wallet_api.settings import Settings

__all__ = ["run_wallet", "wallet_environment"]


def wallet_environment(settings: Settings, data_dir: Any, **extra: str) -> dict[str, str]:
    """The environment of a ``wallet`` process against the test servers: none of this
    process's ``WALLET_*`` variables, the test servers, ``data_dir``, then ``extra``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WALLET_")}
    environment.update(
        WALLET_ENV="test",
        WALLET_DATABASE_URL=settings.database_url,
        WALLET_REDIS_URL=settings.redis_url,
        WALLET_DATA_DIR=str(data_dir),
    )
    environment.update(extra)
    return environment


def run_wallet(
    settings: Settings, data_dir: Any, *args: str, kek: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a ``wallet`` command in its own process against the test servers (WALLET_KEK only if given)."""
    environment = wallet_environment(settings, data_dir, **(env or {}))
    if kek is not None:
        environment["WALLET_KEK"] = kek
    return subprocess.run(
        [sys.executable, "-m", "wallet_api.cli", *args], env=environment, capture_output=True, text=True, timeout=120
    )
