"""``wallet schema dump``: write docs/schema.sql, or check that it is current."""

from __future__ import annotations

from pathlib import Path

import click

from wallet_api.cli.runtime import load_settings, run_async, services

__all__ = ["schema"]


@click.group()
def schema() -> None:
    """The schema snapshot (docs/schema.sql) that the migrations add up to."""


@schema.command("dump")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the file is not what the migrations make.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="[docs/schema.sql]")
def dump(check: bool, output: Path | None) -> None:
    """Migrate a scratch database (created and dropped on the configured server) and write its pg_dump."""
    from wallet_api.schema_snapshot import REFRESH, SNAPSHOT, current_schema

    path = output or SNAPSHOT
    with services(load_settings()) as settings:
        text = run_async(lambda: current_schema(settings.database_url))
    if check:
        if not path.exists() or path.read_text() != text:
            raise click.ClickException(f"{path} is not what the migrations make; run `{REFRESH}`")
        click.echo(f"{path} is current")
        return
    path.write_text(text)
    click.echo(f"wrote {path}")
