"""The ``wallet`` command line: serve, worker, migrate, seed, dev, audit, plus domain commands.

Imports of the application happen inside each command, after the environment is set
(metrics directory, URLs of embedded servers), so that child processes inherit it.
"""

from __future__ import annotations

import click

from wallet_api.cli.core import audit, dev, keys, migrate, seed, serve, worker
from wallet_api.cli.schema import schema

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def cli() -> None:
    """Citizen Wallet: verifiable documents and social-benefit payouts."""


for command in (serve, worker, migrate, seed, dev, audit, keys, schema):
    cli.add_command(command)


def _add_domain_commands() -> None:
    from wallet_api.domains import load_domains

    for domain in load_domains():
        for command in domain.commands:
            cli.add_command(command)


def main() -> None:
    _add_domain_commands()
    cli(prog_name="wallet")


if __name__ == "__main__":
    main()
