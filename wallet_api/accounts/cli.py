"""``wallet org …`` and ``wallet officer …``: organisations, OAuth2 clients and officers.

Generated secrets and passwords are printed once, to stdout, and stored only hashed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from wallet_api.kernel import cli_services as services
from wallet_api.kernel import load_settings, run_async

__all__ = ["officer", "org"]

T = TypeVar("T")


def _run(action: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``action(conn)`` in one transaction against the configured database."""
    from wallet_api.accounts.orgs import OrgError
    from wallet_api.kernel import create_pool

    settings = load_settings()

    async def main(dsn: str) -> T:
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await action(conn)
        except OrgError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            await pool.close()

    with services(settings) as s:
        return run_async(lambda: main(s.database_url))


def _read_jwks(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read a JWKS from {path}: {exc}") from exc


@click.group()
def org() -> None:
    """Organisations (issuers, welfare agencies, verifiers, providers, police) and their API clients."""


@org.command("create")
@click.argument("org_id")
@click.option(
    "--kind", required=True, type=click.Choice(["issuer", "welfare", "verifier", "provider", "police", "admin"])
)
@click.option("--name", required=True)
@click.option(
    "--document-type", "document_types", multiple=True, help="Document type an issuer may issue (repeatable)."
)
@click.option("--province", "provinces", multiple=True, help="3-digit province code served (repeatable).")
def org_create(org_id: str, kind: str, name: str, document_types: tuple[str, ...], provinces: tuple[str, ...]) -> None:
    """Create or update an organisation."""
    from wallet_api.accounts.id_numbers import provinces as known
    from wallet_api.accounts.orgs import upsert_org

    bad = [p for p in provinces if p not in known()]
    if bad:
        raise click.ClickException(f"unknown province codes: {', '.join(bad)}")
    _run(lambda c: upsert_org(c, org_id, kind, name, document_types=list(document_types), provinces=list(provinces)))
    click.echo(f"organisation {org_id} ({kind}) saved")


@org.command("list")
def org_list() -> None:
    """List organisations and their clients."""

    async def action(conn: Any) -> list[Any]:
        return list(
            await conn.fetch(
                """SELECT o.id, o.kind, o.name,
                          array_remove(array_agg(c.client_id ORDER BY c.client_id), NULL) AS clients
                   FROM organisations o LEFT JOIN oauth_clients c ON c.org_id = o.id GROUP BY o.id ORDER BY o.id"""
            )
        )

    for row in _run(action):
        click.echo(f"{row['id']:<28} {row['kind']:<9} {row['name']}  clients: {', '.join(row['clients']) or '-'}")


@org.command("add-client")
@click.argument("org_id")
@click.argument("client_id")
@click.option(
    "--scope", "scopes", multiple=True, required=True, help="documents:issue, documents:verify, payments:manage"
)
@click.option("--jwks", "jwks_path", type=click.Path(path_type=Path), help="Public JWKS file: use private_key_jwt.")
def org_add_client(org_id: str, client_id: str, scopes: tuple[str, ...], jwks_path: Path | None) -> None:
    """Register an OAuth2 client (private_key_jwt with --jwks, else a generated secret)."""
    from wallet_api.accounts.orgs import create_client

    jwks = _read_jwks(jwks_path)
    secret = _run(lambda c: create_client(c, client_id, org_id, list(scopes), jwks=jwks))
    click.echo(f"client {client_id} registered for {org_id}")
    if secret:
        click.echo(f"client_secret (shown once): {secret}")


@org.command("rotate-client")
@click.argument("client_id")
@click.option("--jwks", "jwks_path", type=click.Path(path_type=Path), help="New public JWKS (private_key_jwt).")
def org_rotate_client(client_id: str, jwks_path: Path | None) -> None:
    """Replace a client's keys or secret; the old credential stops working at once."""
    from wallet_api.accounts.orgs import rotate_client

    jwks = _read_jwks(jwks_path)
    secret = _run(lambda c: rotate_client(c, client_id, jwks=jwks))
    click.echo(f"client {client_id} rotated")
    if secret:
        click.echo(f"client_secret (shown once): {secret}")


@click.group()
def officer() -> None:
    """Officers: people acting for an organisation with roles."""


@officer.command("create")
@click.argument("org_id")
@click.argument("username")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", "roles", multiple=True, required=True, help="police_officer, welfare_maker, … (repeatable)")
def officer_create(org_id: str, username: str, name: str, roles: tuple[str, ...]) -> None:
    """Create an officer; prints the initial password once."""
    from wallet_api.accounts.orgs import create_officer

    officer_id, password = _run(lambda c: create_officer(c, org_id, username, name, list(roles)))
    click.echo(f"officer {username} ({officer_id}) created")
    click.echo(f"password (shown once): {password}")


@officer.command("rotate-password")
@click.argument("username")
def officer_rotate(username: str) -> None:
    """Give an officer a new generated password (the old one stops working)."""
    from wallet_api.accounts.orgs import rotate_officer_password

    password = _run(lambda c: rotate_officer_password(c, username))
    click.echo(f"password for {username} (shown once): {password}")


@officer.command("disable")
@click.argument("username")
def officer_disable(username: str) -> None:
    """Disable an officer: no new sign-ins (issued tokens expire within minutes)."""

    async def action(conn: Any) -> Any:
        from wallet_api.kernel import record

        officer_id = await conn.fetchval(
            "UPDATE officers SET disabled_at = now() WHERE username = $1 RETURNING id", username
        )
        if officer_id is not None:
            await record(conn, actor="operator", action="officer.disabled", subject=f"officer:{officer_id}")
        return officer_id

    if _run(action) is None:
        raise click.ClickException(f"no officer {username!r}")
    click.echo(f"officer {username} disabled")
