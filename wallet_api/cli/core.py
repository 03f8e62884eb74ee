"""Core commands: serve, worker, migrate, seed, dev, audit, keys."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from wallet_api.cli.runtime import load_settings, prepare_metrics_dir, run_async, services
from wallet_api.settings import Settings

__all__ = ["audit", "dev", "keys", "migrate", "seed", "serve", "worker"]


def _configure_logging(level: str) -> None:
    from wallet_api.observability.logging import configure_logging

    configure_logging(level)


@click.command()
@click.option("--host", default=None, help="Listen address [WALLET_HOST, default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Listen port [WALLET_PORT, default 8000].")
@click.option("--processes", "-p", type=int, default=None, help="API processes [WALLET_API_PROCESSES].")
@click.option(
    "--server",
    type=click.Choice(["granian", "uvicorn"]),
    default="granian",
    show_default=True,
    help="ASGI server (granian measured faster: docs/benchmarks.md).",
)
# Benchmarks serve the app with probe routes beside the real ones (bench/floor.py).
@click.option("--app", "factory", default="wallet_api.app:create_app", hidden=True)
def serve(host: str | None, port: int | None, processes: int | None, server: str, factory: str) -> None:
    """Serve the API with N processes (needs WALLET_DATABASE_URL and WALLET_REDIS_URL).

    Metrics are served apart, on WALLET_METRICS_ADDRESS (loopback), by a listener this starts.
    """
    settings = load_settings(host=host, port=port, api_processes=processes)
    if not (settings.database_url and settings.redis_url):
        raise click.ClickException("serve needs WALLET_DATABASE_URL and WALLET_REDIS_URL (or use `wallet dev`)")
    prepare_metrics_dir(settings, clear=os.environ.get("WALLET_METRICS_KEEP") != "1")
    _configure_logging(settings.log_level)
    with _metrics_listener(settings.metrics_address):
        _serve(settings, server, factory)


@contextlib.contextmanager
def _metrics_listener(address: str) -> Iterator[None]:
    """The metrics listener in its own process, for as long as the API is served.

    Its own process rather than a thread of this one: the ASGI server forks its workers from
    this process, and they must inherit neither its socket nor a lock held by its thread.
    """
    listener = subprocess.Popen(
        [sys.executable, "-m", "wallet_api.observability.listener", str(os.getpid())],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert listener.stdout is not None
    started = listener.stdout.readline().strip()  # empty: it exited (e.g. the port is taken)
    if not started:
        listener.wait()
        raise click.ClickException(f"the metrics listener could not listen on {address}")
    click.echo(started, err=True)
    try:
        yield
    finally:
        listener.terminate()  # it stops at once (the server's poll interval)
        listener.wait()


def _serve(settings: Settings, server: str, factory: str) -> None:
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            factory,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.api_processes,
            loop="uvloop",
            http="httptools" if _has("httptools") else "h11",
            access_log=False,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=settings.api_stop_seconds,
        )
        return
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    from wallet_api.observability.logging import dict_config

    Server(
        factory,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.api_processes,
        loop=Loops.uvloop,
        factory=True,
        log_access=False,
        log_dictconfig=dict_config(settings.log_level),
        backlog=2048,
        # Without this granian allows backlog/workers requests per process at once (1,024 with
        # two processes), and every open SSE/WebSocket stream holds one of them.
        backpressure=settings.api_max_concurrency,
        # A worker that does not stop in time (its lifespan shutdown stuck, or granian's own
        # shutdown deadlocking, as seen under test load) is killed rather than joined forever.
        workers_kill_timeout=settings.api_stop_seconds,
    ).serve()


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _worker_process(consumers: tuple[str, ...]) -> None:
    from wallet_api.worker import run_worker

    settings = load_settings()
    _configure_logging(settings.log_level)

    async def main() -> None:
        from wallet_api.outbox import declared_routes

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        chosen = None
        if consumers:
            declared = declared_routes().consumers
            unknown = [c for c in consumers if c not in declared]
            if unknown:
                raise click.ClickException(f"unknown consumers: {', '.join(unknown)}")
            chosen = [declared[c] for c in consumers]
        await run_worker(settings, stop, consumers=chosen, loops=[] if consumers else None)

    run_async(main)


@click.command()
@click.option("--processes", "-p", type=int, default=None, help="Worker processes [WALLET_WORKER_PROCESSES].")
@click.option("--consumer", "consumers", multiple=True, help="Run only these outbox consumers (repeatable).")
def worker(processes: int | None, consumers: tuple[str, ...]) -> None:
    """Run background workers: outbox consumers, payment dispatch and schedules."""
    settings = load_settings(worker_processes=processes)
    if not (settings.database_url and settings.redis_url):
        raise click.ClickException("worker needs WALLET_DATABASE_URL and WALLET_REDIS_URL (or use `wallet dev`)")
    prepare_metrics_dir(settings, clear=False)
    if settings.worker_processes <= 1:
        _worker_process(consumers)
        return
    args = [sys.executable, "-m", "wallet_api.cli", "worker", "--processes", "1"]
    for c in consumers:
        args += ["--consumer", c]
    _supervise([subprocess.Popen(args) for _ in range(settings.worker_processes)])


def _supervise(children: list[subprocess.Popen[bytes]], on_exit: Any = None) -> None:
    """Wait for children; on SIGINT/SIGTERM or any child's death, stop them all."""
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.2)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 40
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for s, handler in old.items():
            signal.signal(s, handler)


@click.command()
@click.option("--status", "show_status", is_flag=True, help="Show applied, pending and modified migrations.")
def migrate(show_status: bool) -> None:
    """Apply pending migrations (under an advisory lock), or show their status."""
    settings = load_settings()
    with services(settings) as s:
        run_async(lambda: _migrate(s.database_url, show_status))


async def _migrate(dsn: str, show_status: bool) -> None:
    import asyncpg

    from wallet_api import migrate as m

    conn = await asyncpg.connect(dsn)
    try:
        if show_status:
            for st in await m.status(conn):
                click.echo(f"{st.version:04d}  {st.name:<40} {st.state}")
            return
        try:
            applied = await m.apply(conn)
        except m.MigrationError as exc:
            raise click.ClickException(str(exc)) from exc
        for st in applied:
            click.echo(f"applied {st.version:04d}_{st.name}")
        if not applied:
            click.echo("schema is up to date")
    finally:
        await conn.close()


@click.command()
@click.option("--citizens", type=int, default=None, help="Synthetic citizens to generate [WALLET_SEED_CITIZENS].")
@click.option("--random-seed", type=int, default=6, show_default=True, help="Seed for reproducible data.")
def seed(citizens: int | None, random_seed: int) -> None:
    """Load demo data: organisations, synthetic population, documents, wallets (idempotent)."""
    if citizens is not None:
        # services() re-reads the environment once embedded servers are up; keep the choice.
        os.environ["WALLET_SEED_CITIZENS"] = str(citizens)
    settings = load_settings(seed_citizens=citizens)
    with services(settings) as s:
        run_async(lambda: _seed(s, random_seed))


async def _seed(settings: Any, random_seed: int) -> None:
    from wallet_api.db import create_pool
    from wallet_api.domains import SeedOptions, load_domains

    pool = await create_pool(settings.database_url, min_size=1, max_size=4)
    try:
        options = SeedOptions(citizens=settings.seed_citizens, random_seed=random_seed)
        for domain in load_domains():
            for seeder in domain.seeders:
                started = time.perf_counter()
                await seeder(pool, settings, options)
                click.echo(f"seeded {domain.name} in {time.perf_counter() - started:.1f}s")
    finally:
        await pool.close()


def _start_provider_sim(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The provider simulator, a development tool of the source checkout (``simulators/``):
    it is not installed with the service, so it runs with the checkout on its path."""
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "simulators" / "provider_sim").is_dir():
        raise click.ClickException("no provider simulator here (simulators/): set WALLET_PROVIDERS")
    path = os.pathsep.join(p for p in (str(checkout), env.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "simulators.provider_sim", "--seed", "--port", str(port)],
        env={**env, "PYTHONPATH": path},
        start_new_session=True,
    )


@click.command()
@click.option("--host", default=None, help="Listen address [WALLET_HOST].")
@click.option("--port", type=int, default=None, help="Listen port [WALLET_PORT].")
@click.option("--no-seed", is_flag=True, help="Skip loading demo data.")
def dev(host: str | None, port: int | None, no_seed: bool) -> None:
    """Everything on one machine: embedded PostgreSQL and Redis, migrate, seed, API and workers.

    This is what `make run`  calls. Ctrl-C stops the API and workers, then both servers.
    """
    settings = load_settings(host=host, port=port)
    _configure_logging(settings.log_level)
    with services(settings) as s:
        prepare_metrics_dir(s, clear=True)
        run_async(lambda: _migrate(s.database_url, False))
        if not no_seed:
            run_async(lambda: _seed(s, 6))
        env = {**os.environ, "WALLET_METRICS_KEEP": "1"}
        if host:
            env["WALLET_HOST"] = host
        if port:
            env["WALLET_PORT"] = str(port)
        py = [sys.executable, "-m", "wallet_api.cli"]
        # Own process groups: Ctrl-C reaches only us, and we stop children in order
        # (API first, then workers, then the servers when this block exits).
        children = []
        if not s.providers.configs:
            # No real providers configured: the development set (MoMo, ZaloPay, VNPT Money,
            # Viettel Money) points at the simulator, so run it, with wallets for the
            # seeded population, before anything can ask it for a payout.
            port = urlsplit(s.providers.sim_url).port or 8700
            children.append(_start_provider_sim(port, env))
        api = subprocess.Popen([*py, "serve"], env=env, start_new_session=True)
        workers = subprocess.Popen([*py, "worker"], env=env, start_new_session=True)
        children += [api, workers]
        click.echo(f"Citizen Wallet API on http://{s.host}:{s.port}  (OpenAPI: /schema, Ctrl-C to stop)")
        click.echo(f"Metrics (this machine only) on http://{s.metrics_address}/metrics")
        _supervise(children)
        click.echo("stopped API and workers; stopping PostgreSQL and Redis")


@click.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the audit chain; exit 1 at the first edited, inserted or deleted row."""
    settings = load_settings()
    with services(settings) as s:
        run_async(lambda: _audit_verify(s.database_url))


async def _audit_verify(dsn: str) -> None:
    import asyncpg

    from wallet_api.audit import verify_chain
    from wallet_api.db import _init_connection

    conn = await asyncpg.connect(dsn)
    try:
        await _init_connection(conn)
        checked, broken = await verify_chain(conn)
    finally:
        await conn.close()
    if broken is not None:
        click.echo(f"audit chain BROKEN at row {broken.seq}: {broken.reason} ({checked} rows verified before it)")
        raise SystemExit(1)
    click.echo(f"audit chain intact: {checked} rows")


@click.group()
def keys() -> None:
    """Signing keys (access tokens and credential issuers)."""


@keys.command("rotate")
@click.argument("purpose")
@click.option("--owner", default=None, help="Owner of the key (an issuing organisation id).")
@click.option("--grace-days", type=int, default=30, show_default=True, help="Days the old key stays published.")
def keys_rotate(purpose: str, owner: str | None, grace_days: int) -> None:
    """Create a new active key for PURPOSE; the old one stays published for the grace period."""
    settings = load_settings()
    with services(settings) as s:
        run_async(lambda: _rotate(s, purpose, owner, grace_days))


async def _rotate(settings: Any, purpose: str, owner: str | None, grace_days: int) -> None:
    from datetime import UTC, datetime, timedelta

    from wallet_api.db import create_pool
    from wallet_api.keys import DatabaseKeyProvider, KeyUnwrapError

    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        provider = DatabaseKeyProvider(pool, settings.kek_bytes())
        try:
            key = await provider.rotate(purpose, owner, publish_until=datetime.now(UTC) + timedelta(days=grace_days))
        except KeyUnwrapError as exc:
            raise click.ClickException(KeyUnwrapError.refusal) from exc
        click.echo(f"new active key {key.kid} for {purpose}{' / ' + owner if owner else ''}")
    finally:
        await pool.close()
