"""Command-line tools of the documents domain: the reference QR verifier, issuer-key and mdoc-signer upkeep."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import asyncpg

    from documents.verifier import Fetch
    from wallet_api.kernel import DatabaseKeyProvider

__all__ = ["documents_group", "verify_qr"]


def _read_input(source: str) -> str:
    path = Path(source)
    if len(source) < 4096 and path.is_file():
        if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"}:
            import PIL.Image
            import zxingcpp

            found = zxingcpp.read_barcodes(PIL.Image.open(path))
            if not found:
                raise click.ClickException(f"No QR code found in {source}.")
            return str(found[0].text)
        return path.read_text("utf-8").strip()
    return source.strip()


def _fetcher(timeout: float) -> Fetch:
    import httpx

    client = httpx.Client(timeout=timeout, follow_redirects=False)

    def fetch(url: str) -> bytes | None:
        try:
            r = client.get(url)
        except httpx.HTTPError:
            return None
        return r.content if r.status_code == 200 else None

    return fetch


@click.command("verify-qr")
@click.argument("source", metavar="FILE_OR_TEXT")
@click.option(
    "--server",
    default=None,
    help="Base URL of the wallet service [WALLET_PUBLIC_BASE_URL, default http://127.0.0.1:8000].",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where issuer keys and status lists are cached [default ~/.cache/citizen-wallet-verifier].",
)
@click.option("--offline", is_flag=True, help="Use only the cache: no network at all.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def verify_qr(source: str, server: str | None, cache_dir: Path | None, offline: bool, as_json: bool, lang: str) -> None:
    """Verify an offline wallet QR code (a PNG/JPEG image, a text file, or the text itself).

    Checks the signature, the issuer key, the validity window and the status from a cached
    (or freshly fetched) status list, then prints the disclosed fields. Exit status: 0 valid,
    1 refused, 3 status unknown (no usable status list).
    """
    from documents.offline import PREFIX
    from documents.sdjwt import CredentialError
    from documents.verifier import OfflineVerifier, StatusUnknown, describe

    text = _read_input(source)
    if not text.startswith(PREFIX):
        if "/v/" in text:
            raise click.ClickException(
                "This is an online presentation code: a verifier app sends it to POST /v1/verifications."
            )
        raise click.ClickException("This is not a wallet QR code.")
    base = server or os.environ.get("WALLET_PUBLIC_BASE_URL") or "http://127.0.0.1:8000"
    cache = cache_dir or Path.home() / ".cache" / "citizen-wallet-verifier"
    verifier = OfflineVerifier(base, cache, None if offline else _fetcher(5.0))
    try:
        result = verifier.verify(text)
    except StatusUnknown as exc:
        _refuse(exc.slug, exc.detail, as_json)
        sys.exit(3)
    except CredentialError as exc:
        _refuse(exc.slug, exc.detail, as_json)
        sys.exit(1)
    summary = describe(result, lang)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    click.secho(f"VALID  {summary['title']}", fg="green", bold=True)
    click.echo(f"Issuer:        {summary['issuer']['name'] or ''} ({summary['issuer']['id']})")
    click.echo(f"Holder level:  {summary['holder_level']}")
    click.echo(f"QR valid until {summary['valid_until']}; status list as of {summary['status_list_as_of']}")
    for item in summary["fields"].values():
        value = item["value"]
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        click.echo(f"  {item['label']}: {shown}")


def _refuse(slug: str, detail: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"status": "refused", "reason": slug, "detail": detail}, ensure_ascii=False))
    else:
        click.secho(f"REFUSED  {slug}: {detail}", fg="red", bold=True, err=True)


@click.group("documents")
def documents_group() -> None:
    """Verifiable documents: issuer keys and mdoc Document Signers."""


def _with_keys(action: Callable[[asyncpg.Pool, DatabaseKeyProvider], Awaitable[str]]) -> str:
    """Run ``action`` with a small pool and the deployment's key provider (its WALLET_KEK)."""
    from wallet_api.kernel import DatabaseKeyProvider, KeyUnwrapError, create_pool, load_settings, run_async
    from wallet_api.kernel import cli_services as services

    async def main(database_url: str, kek: bytes) -> str:
        pool = await create_pool(database_url, min_size=1, max_size=2)
        try:
            return await action(pool, DatabaseKeyProvider(pool, kek))
        finally:
            await pool.close()

    with services(load_settings()) as settings:
        try:
            return run_async(lambda: main(settings.database_url, settings.kek_bytes()))
        except KeyUnwrapError as exc:
            raise click.ClickException(KeyUnwrapError.refusal) from exc


@documents_group.command("rotate-key")
@click.argument("org_id")
def rotate_key(org_id: str) -> None:
    """Rotate an issuer's signing key; the old key stays published until its last credential expires."""
    from documents.issuer_keys import rotate_issuer_key

    async def rotate(pool: asyncpg.Pool, keys: DatabaseKeyProvider) -> str:
        return (await rotate_issuer_key(pool, keys, org_id)).kid

    click.echo(f"new key {_with_keys(rotate)} for {org_id}")


@documents_group.command("revoke-mdoc-signer")
@click.argument("org_id")
def revoke_mdoc_signer(org_id: str) -> None:
    """Revoke an agency's current mdoc Document Signer certificate (a key thought compromised):
    its mdocs are refused from now on, listed in the root's CRL, and a new DS key signs the next."""
    from documents.mdoc import revoke_document_signer

    async def revoke(pool: asyncpg.Pool, keys: DatabaseKeyProvider) -> str:
        return await revoke_document_signer(pool, keys, org_id) or ""

    revoked = _with_keys(revoke)
    click.echo(
        f"revoked Document Signer {revoked} of {org_id}"
        if revoked
        else f"{org_id} had no certified Document Signer; its key was replaced"
    )
