"""The phone's side of chip proofing in tests: ask for a challenge, read the chip, upload."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from proofing.devchip import Chip, selfie


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def chip_files(chip: Chip, **replace: bytes) -> dict[str, str]:
    files = {name: getattr(chip.read, name) for name in ("dg1", "dg2", "dg13", "dg14", "dg15", "sod")}
    files.update(replace)
    return {name: b64(data) for name, data in files.items() if data is not None}


def upload(chip: Chip, challenge: dict[str, Any], *, face: bytes | None = None, **replace: bytes) -> dict[str, Any]:
    """What the app sends: the chip's files, its answer to the challenge, a selfie."""
    holder_id = chip.read.dg13  # the synthetic face is drawn from the holder's number
    return {
        "challenge_id": challenge["challenge_id"],
        "chip": chip_files(chip, **replace),
        "active_authentication_signature": b64(chip.answer(bytes.fromhex(challenge["challenge"]))),
        "selfie": b64(face if face is not None else selfie(_person_id(holder_id))),
    }


def _person_id(dg13: bytes) -> str:
    from proofing.chip.asn1 import DG13

    return str(DG13.load(dg13)[0]["value"].native)


async def challenge(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    r = await client.post("/v1/proofing/chip-challenges", headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())
