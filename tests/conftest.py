"""Test harness: real PostgreSQL and Redis, a fresh database per session, clean tables per test.

By default the embedded servers are used: the PostgreSQL cluster under ``.wallet/pgdata``
(a new database ``wallet_test_*`` is created for the session and dropped after it) and a
private ``redis-server`` in a temporary directory. ``WALLET_TEST_DATABASE_URL`` (a server
where we may create databases) and ``WALLET_TEST_REDIS_URL`` point the tests elsewhere.

The app runs in-process on the test's event loop (httpx ``ASGITransport`` plus the app's
real lifespan), so the test body and the app each own their own clients on one loop.
"""

from __future__ import annotations

import base64
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from litestar import Litestar

from tests.support.asgi import client_of, lifespan
from tests.support.probes import PROBES
from tests.support.servers import ServerSet, start_test_servers
from tests.support.tokens import Mint
from wallet_api.app import create_app
from wallet_api.auth.principal import Principal
from wallet_api.db import create_pool
from wallet_api.observability.listener import start_listener
from wallet_api.redis_client import create_redis
from wallet_api.settings import Settings

pytest_plugins = ["tests.support.browser", "tests.support.node", "tests.support.served"]

# Tables that migrations fill and tests must keep.
_KEEP_TABLES = {"schema_migrations", "signing_keys", "audit_head"}


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerSet]:
    with start_test_servers(tmp_path_factory.mktemp("servers")) as s:
        yield s


@pytest.fixture(scope="session")
def settings(servers: ServerSet, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        env="test",
        database_url=servers.database_url,
        redis_url=servers.redis_url,
        data_dir=Path(tmp_path_factory.mktemp("data")),
        kek=base64.b64encode(secrets.token_bytes(32)).decode(),
        public_base_url="http://testserver",
        db_pool_min=1,
        db_pool_max=10,
        outbox_lease_seconds=5,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    application = create_app(settings, extra_routes=PROBES)
    async with lifespan(application):
        yield application


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """The test's own pool, for arranging and asserting on stored state."""
    pool = await create_pool(settings.database_url, min_size=1, max_size=5)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(settings.redis_url)  # as the app makes it (a pool that waits, never refuses)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def _truncate_sql(db: asyncpg.Pool) -> str:
    rows = await db.fetch(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
             AND coalesce(obj_description(c.oid, 'pg_class'), '') NOT LIKE 'reference%'"""
    )
    names = sorted(r["relname"] for r in rows if r["relname"] not in _KEEP_TABLES)
    return f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"


@pytest.fixture(autouse=True)
async def clean_state(db: asyncpg.Pool, redis: aioredis.Redis, _truncate_sql: str) -> None:
    """Every test starts from an empty (but migrated) database and an empty Redis."""
    async with db.acquire() as conn:
        # replica mode skips the audit log's append-only triggers for this cleanup only
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(_truncate_sql)
        await conn.execute(
            "INSERT INTO audit_head (seq, hash) VALUES (0, $1)"
            " ON CONFLICT (singleton) DO UPDATE SET seq = 0, hash = $1",
            bytes(32),
        )
        await conn.execute("SET session_replication_role = origin")
    await redis.flushdb()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as c:
        yield c


@pytest.fixture
def mint(app: Litestar) -> Mint:
    """Mint an access token for a principal (for tests of routes, not of sign-in itself)."""

    async def _mint(principal: Principal | None = None, **fields: Any) -> dict[str, str]:
        if principal is None:
            fields.setdefault("kind", "citizen")
            fields.setdefault("subject", str(uuid.uuid4()))
            principal = Principal(**fields)
        token, _ = await app.state.services.tokens.issue(principal)
        return {"Authorization": f"Bearer {token}"}

    return _mint


@pytest.fixture(scope="session")
def metrics_url() -> Iterator[str]:
    """The metrics listener (what ``wallet serve`` starts) over this process's metrics, which
    the in-process app counts into: the public app does not serve them."""
    server, _ = start_listener("127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_port}/metrics"
    server.shutdown()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("WALLET_ENV", "test")
    # Each `wallet serve` a test starts takes a free port for its metrics listener, so that
    # tests (and test sessions) running at once do not compete for the default one.
    os.environ.setdefault("WALLET_METRICS_ADDRESS", "127.0.0.1:0")
