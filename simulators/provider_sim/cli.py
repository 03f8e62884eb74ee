"""``python -m simulators.provider_sim``: run the e-wallet provider simulator as a real HTTP server."""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path
from typing import Any

import click

__all__ = ["provider_sim"]


@click.command("provider-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address.")
@click.option("--port", type=int, default=8700, show_default=True, help="Listen port.")
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file of the simulated providers [default: <WALLET_DATA_DIR>/provider-sim/sim.sqlite3].",
)
@click.option(
    "--seed-dsn",
    default=None,
    help="Add wallets for everyone in this database's population table (default: WALLET_DATABASE_URL with --seed).",
)
@click.option("--seed", "seed_default", is_flag=True, help="Seed from WALLET_DATABASE_URL.")
@click.option(
    "--webhook-base-url",
    default=None,
    help="Webhooks go to <url>/<code>/payout-events [default: <WALLET_PUBLIC_BASE_URL>/v1/providers]; ''"
    " keeps them queued.",
)
@click.option(
    "--webhook-batch",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help='Events per webhook request (more than 1: one signed {"events": [...]} request per batch).',
)
@click.option("--admin-token", default="", help="Require X-Sim-Admin-Token on /_admin (empty: loopback trust).")
@click.option("--random-seed", type=int, default=None, help="Seed of the fault dice, for reproducible runs.")
@click.option("--latency-ms", type=float, default=0.0, show_default=True, help="Median added latency.")
@click.option("--latency-sigma", type=float, default=0.0, show_default=True, help="Log-normal spread (0: fixed).")
@click.option("--error-rate", type=float, default=0.0, show_default=True, help="Share of requests answered 503.")
@click.option("--throttle-rate", type=float, default=0.0, show_default=True, help="Share answered 429.")
@click.option("--rate-limit", type=float, default=0.0, show_default=True, help="Requests/s per provider (0: none).")
@click.option(
    "--timeout-after-commit-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of payouts/confirmations done whose response is lost.",
)
@click.option("--hang-ms", type=float, default=30_000.0, show_default=True, help="How long a lost response hangs.")
@click.option("--reject-rate", type=float, default=0.0, show_default=True, help="Share of payouts rejected.")
@click.option("--reject-reason", default="limit_exceeded", show_default=True, help="Reason of injected rejections.")
@click.option("--settle-delay-ms", type=float, default=0.0, show_default=True, help="Payouts settle after this.")
@click.option("--webhook-duplicate-rate", type=float, default=0.0, show_default=True)
@click.option("--webhook-late-rate", type=float, default=0.0, show_default=True)
@click.option("--webhook-late-ms", type=float, default=60_000.0, show_default=True)
@click.option("--webhook-drop-rate", type=float, default=0.0, show_default=True)
def provider_sim(
    host: str,
    port: int,
    store: Path | None,
    seed_dsn: str | None,
    seed_default: bool,
    webhook_base_url: str | None,
    webhook_batch: int,
    admin_token: str,
    random_seed: int | None,
    **fault_options: Any,
) -> None:
    """E-wallet provider simulator (MoMo, ZaloPay, VNPT Money, Viettel Money by default).

    Serves the provider API of docs/providers.md under http://HOST:PORT/<code>/v1 for
    every provider in WALLET_PROVIDERS (same credentials as the service), keeps its own
    accounts and ledger in a SQLite file, and injects the faults given here or later
    through PUT /_admin/faults.
    """
    import uvicorn

    from payments.providers.config import load_provider_configs
    from simulators.provider_sim.app import SimState, create_sim_app
    from simulators.provider_sim.faults import FaultBook, Faults
    from simulators.provider_sim.seed import seed_from_dsn
    from simulators.provider_sim.store import SimStore
    from wallet_api.cli.runtime import load_settings

    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s provider-sim %(levelname)s %(message)s")
    rename = {"rate_limit": "rate_limit_per_second"}
    try:
        faults = Faults(**{rename.get(k, k): v for k, v in fault_options.items()})
        faults.validate()
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from exc
    providers = load_provider_configs(settings)
    if not providers:
        raise click.ClickException("no providers configured (WALLET_PROVIDERS)")
    sim_store = SimStore(store or settings.data_dir / "provider-sim" / "sim.sqlite3")
    dsn = seed_dsn or (settings.database_url if seed_default else None)
    if seed_default and not dsn:
        raise click.ClickException("--seed needs WALLET_DATABASE_URL (or give --seed-dsn)")
    if dsn:
        added = asyncio.run(seed_from_dsn(sim_store, dsn, sorted(providers)))
        click.echo(f"seeded {added} new wallets; store holds {sim_store.count_wallets()}")
    if webhook_base_url is None:
        webhook_base_url = settings.public_base_url.rstrip("/") + "/v1/providers"
    state = SimState(
        store=sim_store,
        providers=providers,
        faults=FaultBook(faults),
        webhook_base_url=webhook_base_url.rstrip("/"),
        webhook_batch=webhook_batch,
        admin_token=admin_token,
        rng=random.Random(random_seed),
    )
    click.echo(f"provider simulator on http://{host}:{port}/<code>/v1 for {', '.join(sorted(providers))}")
    uvicorn.run(
        create_sim_app(state),
        host=host,
        port=port,
        loop="uvloop",
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
        # Longer than clients keep idle connections (httpx: 5 s), as a provider's load balancer
        # would: a server closing an idle connection just as the client reuses it loses that
        # request unprocessed, and the client cannot tell whether it was.
        timeout_keep_alive=75,
    )
