"""Nobody can lock someone else out, and guessing stays throttled (issue 14, item 3).

The review locked out, without any credential, an officer (5 wrong passwords on a
guessable username), an OAuth2 client (10 wrong secrets, even a ``private_key_jwt`` client)
and a citizen's registration, recovery and device sign-in. Limits now count by source (the
client address) before by account: the attacker's own source is stopped, the victim calling
from elsewhere is not.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import asyncpg
import httpx
import jwt
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar

from tests.accounts.conftest import Person, Phone, add_person, last_code, register, sign_in, start_registration
from tests.support.asgi import client_of
from wallet_api.accounts.oauth import ASSERTION_TYPE
from wallet_api.accounts.orgs import create_client, create_officer, upsert_org
from wallet_api.keys.provider import public_jwk

NHUNG = Person("001195012345", "Trần Thị Nhung", date(1995, 3, 8))


@asynccontextmanager
async def _from(app: Litestar, address: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app, (address, 40000)) as c:
        yield c


def _slug(r: httpx.Response) -> str:
    return str(r.json().get("type", "")).rsplit("/", 1)[-1]


async def _officer(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await upsert_org(conn, "ca-hanoi", "police", "Công an Hà Nội")
        await create_officer(conn, "ca-hanoi", "police.hanoi", "Lê Văn Minh", ["police_officer"], password="right-pw")


async def _officer_sign_in(c: httpx.AsyncClient, password: str, username: str = "police.hanoi") -> httpx.Response:
    return await c.post("/v1/officers/sign-in", json={"username": username, "password": password})


async def test_wrong_officer_passwords_lock_the_guesser_not_the_officer(app: Litestar, db: asyncpg.Pool) -> None:
    await _officer(db)
    async with _from(app, "203.0.113.7") as attacker, _from(app, "198.51.100.20") as officer:
        assert [(await _officer_sign_in(attacker, "guess")).status_code for _ in range(5)] == [401] * 5
        # Brute force stays throttled: the guesser is locked out, even with the right password.
        locked = await _officer_sign_in(attacker, "right-pw")
        assert (locked.status_code, _slug(locked)) == (429, "locked-out")
        # The officer, at the station, signs in.
        assert (await _officer_sign_in(officer, "right-pw")).status_code == 200


async def test_a_distributed_guess_stops_unknown_sources_but_not_the_officers_own(
    app: Litestar, db: asyncpg.Pool
) -> None:
    await _officer(db)
    async with _from(app, "198.51.100.20") as station:
        assert (await _officer_sign_in(station, "right-pw")).status_code == 200  # a known source
    # 50 sources, 1 guess each: no pair and no source reaches its own threshold.
    for i in range(50):
        async with _from(app, f"10.9.{i}.1") as bot:
            assert (await _officer_sign_in(bot, f"guess-{i}")).status_code == 401
    async with _from(app, "10.8.0.1") as fresh:
        r = await _officer_sign_in(fresh, "right-pw")
        assert (r.status_code, _slug(r)) == (429, "locked-out")
    async with _from(app, "198.51.100.20") as station:
        assert (await _officer_sign_in(station, "right-pw")).status_code == 200


async def test_one_source_spraying_usernames_is_locked(app: Litestar, db: asyncpg.Pool) -> None:
    await _officer(db)
    async with _from(app, "203.0.113.9") as sprayer:
        for i in range(20):
            assert (await _officer_sign_in(sprayer, "guess", username=f"officer{i}")).status_code == 401
        r = await _officer_sign_in(sprayer, "right-pw")
        assert (r.status_code, _slug(r)) == (429, "locked-out")


async def test_wrong_secrets_never_lock_a_private_key_jwt_client(app: Litestar, db: asyncpg.Pool) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    async with db.acquire() as conn:
        await upsert_org(conn, "verifier-bach-mai", "verifier", "Bệnh viện Bạch Mai")
        jwks = {"keys": [{**public_jwk(key.public_key()), "kid": "k1", "alg": "ES256"}]}
        await create_client(conn, "bach-mai", "verifier-bach-mai", ["documents:verify"], jwks=jwks)
    guess = {"grant_type": "client_credentials", "client_id": "bach-mai", "client_secret": "guess"}
    async with _from(app, "203.0.113.7") as attacker:
        statuses = [(await attacker.post("/oauth2/token", data=guess)).status_code for _ in range(12)]
        assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    now = int(time.time())
    claims = {"iss": "bach-mai", "sub": "bach-mai", "aud": "http://testserver/oauth2/token", "iat": now}
    assertion = jwt.encode({**claims, "exp": now + 60, "jti": uuid.uuid4().hex}, key, "ES256", headers={"kid": "k1"})
    form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    async with _from(app, "198.51.100.30") as hospital:
        r = await hospital.post("/oauth2/token", data=form)
        assert r.status_code == 200, r.text


async def test_a_stranger_cannot_use_up_a_persons_registrations(
    app: Litestar, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await add_person(db, NHUNG)
    async with _from(app, "203.0.113.7") as attacker:
        statuses = [(await start_registration(attacker, NHUNG)).status_code for _ in range(6)]
        assert statuses == [202] * 5 + [429]  # the stranger is throttled
    async with _from(app, "198.51.100.40") as owner:
        phone = await register(owner, redis, NHUNG)
    assert phone.account_id is not None


async def test_wrong_codes_lock_the_guesser_not_the_persons_registration(
    app: Litestar, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await add_person(db, NHUNG)
    device = Phone()
    async with _from(app, "203.0.113.7") as attacker:
        # Anyone may start a registration with a person's number (the code goes to the phone given).
        reg_id = (await start_registration(attacker, NHUNG, phone="+84987654321")).json()["id"]
        body = {
            "password": "x" * 12,
            "device": device.device_body(),
            "signature": device.sign(f"citizen-wallet:bind:{reg_id}"),
        }
        for code in ("000001", "000002", "000003", "000004", "000005"):
            assert (
                await attacker.post(f"/v1/registrations/{reg_id}/complete", json={**body, "code": code})
            ).status_code == 401
        r = await attacker.post(f"/v1/registrations/{reg_id}/complete", json={**body, "code": "000006"})
        assert (r.status_code, _slug(r)) == (429, "locked-out")
    async with _from(app, "198.51.100.40") as owner:
        phone = await register(owner, redis, NHUNG)
    assert phone.account_id is not None


async def test_wrong_passwords_lock_the_guesser_not_the_owners_recovery(
    app: Litestar, client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await add_person(db, NHUNG)
    await register(client, redis, NHUNG)
    body = {"person_id": NHUNG.person_id, "phone": NHUNG.phone, "password": "wrong password"}
    async with _from(app, "203.0.113.7") as attacker:
        for _ in range(5):
            assert (await attacker.post("/v1/device-bindings", json=body)).status_code == 202
        r = await attacker.post("/v1/device-bindings", json={**body, "password": NHUNG.password})
        assert (r.status_code, _slug(r)) == (429, "locked-out")
    await redis.delete(f"dev:sms:{NHUNG.phone}")
    async with _from(app, "198.51.100.40") as owner:
        r = await owner.post("/v1/device-bindings", json={**body, "password": NHUNG.password})
        assert r.status_code == 202
        assert await last_code(redis, NHUNG.phone) is not None  # the owner's code was sent


async def test_bad_signatures_lock_the_guesser_not_the_phone(
    app: Litestar, client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await add_person(db, NHUNG)
    phone = await register(client, redis, NHUNG)
    thief = Phone()
    async with _from(app, "203.0.113.7") as attacker:
        for _ in range(10):
            c = (await attacker.post("/v1/auth/challenges", json={"device_id": phone.device_id})).json()
            r = await attacker.post(
                "/v1/auth/sign-in",
                json={"device_id": phone.device_id, "challenge": c["challenge"], "signature": thief.sign(c["sign"])},
            )
            assert r.status_code == 401
        c = (await attacker.post("/v1/auth/challenges", json={"device_id": phone.device_id})).json()
        r = await attacker.post(
            "/v1/auth/sign-in",
            json={"device_id": phone.device_id, "challenge": c["challenge"], "signature": thief.sign(c["sign"])},
        )
        assert (r.status_code, _slug(r)) == (429, "locked-out")
        # … and the attacker cannot spend the phone's challenges either.
        spent = [
            (await attacker.post("/v1/auth/challenges", json={"device_id": phone.device_id})).status_code
            for _ in range(30)
        ]
        assert spent[-1] == 429
    async with _from(app, "198.51.100.40") as owner:
        assert (await sign_in(owner, phone)).status_code == 200
