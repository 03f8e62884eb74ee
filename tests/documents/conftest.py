"""Fixtures for the documents tests: organisations, citizens with device keys, sample documents.

Accounts, devices and organisations are arranged by inserting rows into the identity tables
(migrations/0100_identity_core.sql); tokens come from the ``mint`` fixture.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.signing import signed_jwt
from tests.support.tokens import Mint
from wallet_api.auth.principal import Principal
from wallet_api.keys.provider import public_jwk

ISSUER_TYPES = [
    "chip_id_card",
    "driving_licence",
    "vehicle_registration",
    "health_insurance_card",
    "vehicle_liability_insurance",
    "social_insurance_record",
]


@dataclass
class Citizen:
    account_id: str
    device_id: str
    person_id: str
    key: ec.EllipticCurvePrivateKey
    headers: dict[str, str]

    def sign(self, payload: dict[str, Any], typ: str = "presentation-request+jwt") -> str:
        return signed_jwt(self.key, payload, typ)


#: ``make_org(org_id, kind, *, types=None, scopes=None, name=None)``: the organisation's client headers.
MakeOrg = Callable[..., Awaitable[dict[str, str]]]
#: ``make_citizen(person_id="001090012345", level=2)``: an account with a bound device.
MakeCitizen = Callable[..., Awaitable[Citizen]]


@pytest.fixture
async def make_org(db: asyncpg.Pool, mint: Mint) -> MakeOrg:
    async def _make(
        org_id: str,
        kind: str,
        *,
        types: list[str] | None = None,
        scopes: set[str] | None = None,
        name: str | None = None,
    ) -> dict[str, str]:
        await db.execute(
            "INSERT INTO organisations (id, kind, name, document_types) VALUES ($1, $2, $3, $4)",
            org_id,
            kind,
            name or org_id.upper(),
            types or [],
        )
        return await mint(
            Principal(kind="client", subject=f"{org_id}-client", org_id=org_id, scopes=frozenset(scopes or ()))
        )

    return _make


async def add_to_registry(
    db: asyncpg.Pool,
    person_id: str,
    full_name: str = "Nguyễn Văn Hùng",
    date_of_birth: dt.date = dt.date(1990, 5, 17),
) -> None:
    """A person in the local population registry (issuing checks holders against it)."""
    await db.execute(
        """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin, residence_address,
                                   residence_province)
           VALUES ($1, $2, $3, 'male', 'Hà Nội', 'Đống Đa, Hà Nội', '001') ON CONFLICT (person_id) DO NOTHING""",
        person_id,
        full_name,
        date_of_birth,
    )


@pytest.fixture
async def issuer(make_org: MakeOrg, db: asyncpg.Pool) -> dict[str, str]:
    """Headers of the traffic police's client, allowed every document type; the holder of the
    sample claims (``001090012345``, Nguyễn Văn Hùng) is in the registry."""
    await add_to_registry(db, "001090012345")
    return await make_org(
        "csgt", "issuer", types=ISSUER_TYPES, scopes={"documents:issue"}, name="Cục Cảnh sát giao thông"
    )


@pytest.fixture
async def verifier(make_org: MakeOrg) -> dict[str, str]:
    return await make_org("hotel-sen", "verifier", scopes={"documents:verify"}, name="Khách sạn Sen")


@pytest.fixture
async def make_citizen(db: asyncpg.Pool, mint: Mint) -> MakeCitizen:
    async def _make(person_id: str = "001090012345", level: int = 2) -> Citizen:
        # In the registry with the sample claims' name and birth date, so they may be issued to them.
        await add_to_registry(db, person_id)
        key = ec.generate_private_key(ec.SECP256R1())
        account_id = await db.fetchval(
            "INSERT INTO accounts (person_id, phone, level) VALUES ($1, $2, $3) RETURNING id",
            person_id,
            "09" + person_id[-8:],
            level,
        )
        device_id = await db.fetchval(
            "INSERT INTO devices (account_id, name, public_jwk) VALUES ($1, 'Pixel', $2) RETURNING id",
            account_id,
            public_jwk(key.public_key()),
        )
        headers = await mint(
            kind="citizen", subject=str(account_id), level=level, device_id=str(device_id), auth_time=int(time.time())
        )
        return Citizen(str(account_id), str(device_id), person_id, key, headers)

    return _make


@pytest.fixture
async def holder(make_citizen: MakeCitizen) -> Citizen:
    return await make_citizen()


def licence_claims(**over: Any) -> dict[str, Any]:
    claims = {
        "licence_number": "001090012345",
        "full_name": "Nguyễn Văn Hùng",
        "date_of_birth": "1990-05-17",
        "nationality": "Việt Nam",
        "place_of_residence": "Số 12 ngõ 34 phố Nguyễn Chí Thanh, phường Láng Thượng, quận Đống Đa, Hà Nội",
        "classes": [
            {"code": "A1", "issue_date": "2012-03-01"},
            {"code": "B", "issue_date": "2015-06-10", "expiry_date": "2035-06-10"},
            {"code": "C1", "issue_date": "2020-09-21", "expiry_date": "2030-09-21"},
        ],
        "issue_date": "2025-01-15",
        "expiry_date": "2035-06-10",
        "issuing_authority": "Cục Cảnh sát giao thông",
        "points": 12,
        "photo_ref": "sha256:4f0c5e2b9a",
    }
    claims.update(over)
    return claims


def portrait_uri(size: tuple[int, int] = (120, 150), image_format: str = "JPEG") -> str:
    """A drawn head and shoulders, as the ``data:`` URI a ``portrait`` claim holds."""
    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("RGB", size, (214, 228, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.1, height * 0.62, width * 0.9, height * 1.3), fill=(40, 62, 98))
    draw.ellipse((width * 0.28, height * 0.14, width * 0.72, height * 0.62), fill=(226, 186, 150))
    draw.chord((width * 0.26, height * 0.1, width * 0.74, height * 0.5), 180, 360, fill=(35, 28, 24))
    out = io.BytesIO()
    image.save(out, format=image_format)
    return f"data:image/{image_format.lower()};base64,{base64.b64encode(out.getvalue()).decode()}"


def id_card_claims(**over: Any) -> dict[str, Any]:
    claims = {
        "id_number": "001090012345",
        "full_name": "Nguyễn Văn Hùng",
        "date_of_birth": "1990-05-17",
        "sex": "male",
        "nationality": "Việt Nam",
        "place_of_origin": "Xã Yên Sở, huyện Hoài Đức, Hà Nội",
        "place_of_residence": "Phường Láng Thượng, quận Đống Đa, Hà Nội",
        "issue_date": "2024-07-01",
        "expiry_date": "2030-05-17",
    }
    claims.update(over)
    return claims


async def issue(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    doc_type: str = "driving_licence",
    ref: str | None = None,
    holder_id: str = "001090012345",
    claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if claims is None:
        claims = licence_claims() if doc_type == "driving_licence" else id_card_claims()
    r = await client.post(
        "/v1/agency/documents",
        headers=headers,
        json={
            "doc_type": doc_type,
            "agency_ref": ref or f"GPLX-{uuid.uuid4().hex[:10]}",
            "holder_id": holder_id,
            "claims": claims,
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def presentation_proof(
    citizen: Citizen,
    document_id: str,
    fields: list[str],
    *,
    mode: str = "online",
    verifier_org_id: str | None = None,
    iat: int | None = None,
    jti: str | None = None,
) -> str:
    payload: dict[str, Any] = {
        "document_id": document_id,
        "fields": fields,
        "mode": mode,
        "aud": f"http://testserver/v1/me/documents/{document_id}/presentations",
        "iat": int(time.time()) if iat is None else iat,
        "jti": jti or secrets.token_urlsafe(16),
    }
    if verifier_org_id:
        payload["verifier_org_id"] = verifier_org_id
    return citizen.sign(payload)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
