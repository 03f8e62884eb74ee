"""The ``wallet`` command line: serve, worker, migrate, seed, dev, audit, plus domain commands.

Imports of the application happen inside each command, after the environment is set
(metrics directory, URLs of embedded servers), so that child processes inherit it.
"""

from __future__ import annotations

import click

from wallet_api.cli.core import audit, dev, keys, migrate, seed, serve, worker
from wallet_api.cli.schema import schema

__all__ = ["cli", "main"]


class _Commands(click.Group):
    """The core commands, and the domains' commands loaded only when one is asked for.

    Loading the domains imports ``prometheus_client``, which decides at import whether metrics
    are shared between processes: ``serve`` and ``worker`` must choose the metrics directory
    first (wallet_api/cli/runtime.py), or their processes' counts never reach the listener.
    """

    _domains_loaded = False

    def _load_domain_commands(self) -> None:
        if self._domains_loaded:
            return
        self._domains_loaded = True
        from wallet_api.domains import load_domains

        for domain in load_domains():
            for command in domain.commands:
                self.add_command(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None:
            self._load_domain_commands()
            found = super().get_command(ctx, cmd_name)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_domain_commands()
        return super().list_commands(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def cli() -> None:
    """Citizen Wallet: verifiable documents and social-benefit payouts."""


for command in (serve, worker, migrate, seed, dev, audit, keys, schema):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="wallet")


if __name__ == "__main__":
    main()
