"""Identity test helpers: a phone with a P-256 key, people in the local registry, registration."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import ec

from notifications.channels.sms.local import read_dev_sms
from tests.support.signing import b64url, es256, es256_der
from wallet_api.keys.provider import public_jwk


@dataclass
class Phone:
    """A phone app: its device key pair, and (once bound) its device id and tokens."""

    name: str = "Pixel 8"
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    device_id: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    account_id: str | None = None
    #: Sign as Android and iOS do natively (DER) instead of the JWS form (raw r || s).
    der: bool = False

    @property
    def jwk(self) -> dict[str, str]:
        return public_jwk(self.key.public_key())

    def sign(self, message: bytes | str) -> str:
        return b64url(es256_der(self.key, message)) if self.der else es256(self.key, message)

    def device_body(self) -> dict[str, Any]:
        return {"public_jwk": self.jwk, "name": self.name}

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def take(self, session: dict[str, Any]) -> None:
        self.device_id = session["device_id"]
        self.access_token = session["access_token"]
        self.refresh_token = session["refresh_token"]
        self.account_id = session["account_id"]


@dataclass
class Person:
    person_id: str
    full_name: str
    date_of_birth: date
    sex: str = "female"
    phone: str = "+84912345678"
    status: str = "alive"
    father_id: str | None = None
    mother_id: str | None = None
    password: str = "correct horse battery"


async def add_person(db: asyncpg.Pool, p: Person, *, sim_owner: bool = True) -> Person:
    """The person in the local population registry and, unless ``sim_owner`` is False, their
    phone registered to them in the local subscriber database (the first person to claim a
    number keeps it)."""
    if sim_owner:
        await register_phone(db, p.phone, p.person_id)
    await db.execute(
        """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin, residence_address,
               residence_province, status, died_on, father_id, mother_id)
           VALUES ($1, $2, $3, $4, 'Hà Nội', 'Số 1 Tràng Tiền, Hà Nội', $5, $6, $7, $8, $9)""",
        p.person_id,
        p.full_name,
        p.date_of_birth,
        p.sex,
        p.person_id[:3],
        p.status,
        date(2025, 1, 1) if p.status == "deceased" else None,
        p.father_id,
        p.mother_id,
    )
    return p


async def register_phone(db: asyncpg.Pool, phone: str, person_id: str) -> None:
    """The carriers register ``phone`` to ``person_id`` (SIM owner), if nobody has it yet."""
    await db.execute(
        "INSERT INTO mobile_subscribers (phone, person_id) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING",
        phone,
        person_id,
    )


async def last_code(redis: aioredis.Redis, phone: str) -> str | None:
    messages = await read_dev_sms(redis, phone)
    for m in messages:
        found = re.search(r"\b(\d{6})\b", str(m["text"]))
        if found:
            return found.group(1)
    return None


async def start_registration(client: httpx.AsyncClient, p: Person, **override: Any) -> httpx.Response:
    body = {
        "person_id": p.person_id,
        "full_name": p.full_name,
        "date_of_birth": p.date_of_birth.isoformat(),
        "phone": p.phone,
        **override,
    }
    return await client.post("/v1/registrations", json=body)


async def complete_with_a_guess(client: httpx.AsyncClient, reg_id: str) -> httpx.Response:
    """Complete a registration with a made-up code (what a refused registration leaves)."""
    device = Phone()
    return await client.post(
        f"/v1/registrations/{reg_id}/complete",
        json={
            "code": "123456",
            "password": "a long password",
            "device": device.device_body(),
            "signature": device.sign(f"citizen-wallet:bind:{reg_id}"),
        },
    )


async def register(client: httpx.AsyncClient, redis: aioredis.Redis, p: Person, phone: Phone | None = None) -> Phone:
    phone = phone or Phone()
    r = await start_registration(client, p)
    assert r.status_code == 202, r.text
    reg_id = r.json()["id"]
    code = await last_code(redis, p.phone)
    assert code is not None
    r = await client.post(
        f"/v1/registrations/{reg_id}/complete",
        json={
            "code": code,
            "password": p.password,
            "device": phone.device_body(),
            "signature": phone.sign(f"citizen-wallet:bind:{reg_id}"),
        },
    )
    assert r.status_code == 201, r.text
    phone.take(r.json())
    return phone


async def sign_in(client: httpx.AsyncClient, phone: Phone) -> httpx.Response:
    c = (await client.post("/v1/auth/challenges", json={"device_id": phone.device_id})).json()
    r = await client.post(
        "/v1/auth/sign-in",
        json={"device_id": phone.device_id, "challenge": c["challenge"], "signature": phone.sign(c["sign"])},
    )
    if r.status_code == 200:
        phone.take(r.json())
    return r


async def step_up(client: httpx.AsyncClient, phone: Phone) -> None:
    c = (await client.post("/v1/auth/challenges", json={"device_id": phone.device_id, "purpose": "step-up"})).json()
    r = await client.post(
        "/v1/auth/step-up",
        json={"challenge": c["challenge"], "signature": phone.sign(c["sign"])},
        headers=phone.headers,
    )
    assert r.status_code == 200, r.text
    phone.access_token = r.json()["access_token"]


NHUNG = Person("001195004211", "Nguyễn Thị Hồng Nhung", date(1995, 4, 21), "female", "+84912000001")
MINH = Person("001088012345", "Trần Văn Minh", date(1988, 9, 2), "male", "+84912000002")


@pytest.fixture
async def nhung(db: asyncpg.Pool) -> Person:
    return await add_person(db, Person(**NHUNG.__dict__))


@pytest.fixture
async def minh(db: asyncpg.Pool) -> Person:
    return await add_person(db, Person(**MINH.__dict__))
