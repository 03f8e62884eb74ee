"""``wallet proofing …``: play the phone of a demo citizen against ``make run``.

``wallet proofing phone-upload --id-number N --challenge-id ID --challenge HEX`` prints the
JSON body of ``POST /v1/proofing/chip-proofs`` (or of a recovery's completion, with the
code, password and device added): the citizen's development chip read, its answer to the
challenge and a selfie. Only for development: the chip is signed by the development
Document Signer that ``wallet seed`` made under the data directory.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import click

from wallet_api.kernel import cli_services as services
from wallet_api.kernel import load_settings, run_async

__all__ = ["proofing_group"]


@click.group("proofing")
def proofing_group() -> None:
    """Identity proofing by chip and face (development helpers)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@proofing_group.command("phone-upload")
@click.option("--id-number", required=True, help="12-digit ID number of a citizen in the (local) registry.")
@click.option("--challenge-id", required=True, help="challenge_id from POST /v1/proofing/chip-challenges.")
@click.option("--challenge", "challenge_hex", required=True, help="challenge (16 hex digits) from the same answer.")
@click.option("--selfie-of", default=None, help="Take the selfie of another citizen (to see face-mismatch).")
def phone_upload(id_number: str, challenge_id: str, challenge_hex: str, selfie_of: str | None) -> None:
    """Print what the app would upload: chip read, signed challenge and a selfie."""
    from proofing.devchip import Holder, selfie
    from proofing.devchip.material import load_dev_material

    try:
        nonce = bytes.fromhex(challenge_hex)
    except ValueError as exc:
        raise click.BadParameter("not hex", param_hint="--challenge") from exc
    settings = load_settings()
    try:
        material = load_dev_material(settings)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    person = _lookup(settings, id_number)
    sex = "female" if person["sex"] == "female" else "male"
    chip = material.chip(Holder(id_number, person["full_name"], person["date_of_birth"], sex))
    files = {name: getattr(chip.read, name) for name in ("dg1", "dg2", "dg13", "dg14", "dg15", "sod")}
    body: dict[str, Any] = {
        "challenge_id": challenge_id,
        "chip": {name: _b64(data) for name, data in files.items() if data is not None},
        "active_authentication_signature": _b64(chip.answer(nonce)),
        "selfie": _b64(selfie(selfie_of or id_number)),
    }
    click.echo(json.dumps(body))


def _lookup(settings: Any, id_number: str) -> Any:
    from wallet_api.accounts.registry import LocalRegistry
    from wallet_api.kernel import create_pool

    async def main(dsn: str) -> Any:
        pool = await create_pool(dsn, min_size=1, max_size=1)
        try:
            return await LocalRegistry(pool).lookup(id_number)
        finally:
            await pool.close()

    with services(settings) as s:
        person = run_async(lambda: main(s.database_url))
    if person is None:
        raise click.ClickException(f"no citizen {id_number} in the local registry")
    return {"full_name": person.full_name, "date_of_birth": person.date_of_birth, "sex": person.sex}
