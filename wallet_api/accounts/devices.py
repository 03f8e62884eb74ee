"""Devices: bind a new phone (lost phone or recovery), list, rename, revoke.

Binding a new device needs the account password and a code texted to the *registered*
number, which the carriers must still register to the account's person (SIM owner check:
a number given up and reassigned, or a squatter's own SIM, recovers nothing); the start
call answers the same whatever the details (no enumeration), and wrong passwords count
towards a per-person lockout. A newly bound device:

* is announced to the account's other devices (``account.device_bound`` in the outbox);
* starts a payout cooling-off: ``accounts.payout_locked_until`` moves to now +
  ``WALLET_PAYOUT_COOLING_OFF_SECONDS``. Payout details (the default e-wallet) must not
  change before then — the SIM-swap defence: whoever takes over the phone number cannot
  redirect benefits at once, and the real owner is warned on the old devices.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from wallet_api.accounts import otp
from wallet_api.accounts.common import (
    bind_message,
    insert_device,
    normalise_phone,
    request_source,
    session_view,
    verified_device_key,
)
from wallet_api.accounts.passwords import verify_password
from wallet_api.accounts.ratelimit import LOCKOUTS, hit
from wallet_api.accounts.schemas import (
    DeviceBindingComplete,
    DeviceBindingStart,
    DeviceIn,
    DevicePairingComplete,
    DeviceRename,
    DeviceView,
    Pending,
    SessionView,
)
from wallet_api.accounts.sessions import revoke_device_sessions, start_session
from wallet_api.accounts.subscribers import phone_owned_by
from wallet_api.kernel import (
    NOT_REPLAYED,
    PUBLIC,
    SMS_SENDER,
    AppServices,
    AppSettings,
    Caller,
    Db,
    Forbidden,
    NotFound,
    RedisClient,
    Settings,
    Tokens,
    TokenService,
    Unauthorized,
    citizen,
    fresh_device_signature,
    publish,
    publish_session_end,
    record,
)

__all__ = [
    "complete_binding",
    "complete_pairing",
    "list_devices",
    "rename_device",
    "revoke_device",
    "start_binding",
    "start_pairing",
]

#: Seconds a pairing code (shown as a QR on the signed-in phone) stays usable.
_PAIRING_TTL = 120

_PENDING_MESSAGE = "If the details are right, a code has been sent to the registered phone number."


@post(
    "/v1/device-bindings",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["devices"],
    summary="Bind a new phone: ID number, registered phone and password; a code is texted",
    status_code=HTTP_202_ACCEPTED,
)
async def start_binding(
    request: Request[Any, Any, Any],
    data: JSONBody[DeviceBindingStart],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    services: AppServices,
) -> Pending:
    phone = normalise_phone(data.phone)
    lockout = LOCKOUTS["password"]
    source = request_source(request)
    # Each attempt costs an argon2id hash: bound them per source first, then per person and
    # source, so that a stranger's guesses never lock the owner out (accounts/ratelimit.py).
    await hit(redis, "bind-ip", source, limit=30, window=60)
    await lockout.check(redis, data.person_id, source)
    await hit(redis, "bind-person", data.person_id, source, limit=10, window=3600)
    row = await db.fetchrow(
        "SELECT id, phone, password_hash, state, language FROM accounts WHERE person_id = $1", data.person_id
    )
    # The hash is always verified (against a dummy when there is no account): same time either way.
    password_ok = await verify_password(row["password_hash"] if row else None, data.password)
    # Asked whatever the other answers, so that the work done does not depend on them.
    sim_owner = await phone_owned_by(services.subscribers, phone, data.person_id)
    ok = row is not None and password_ok and row["phone"] == phone and row["state"] == "active" and sim_owner
    binding_id = secrets.token_urlsafe(24)
    ttl = settings.accounts.otp_ttl_seconds
    if ok:
        assert row is not None
        await lockout.success(redis, data.person_id, source)
        await redis.set(f"bind:{binding_id}", json.dumps({"account_id": str(row["id"])}), ex=ttl)
        await otp.issue_code(
            redis,
            services.get(SMS_SENDER),
            purpose="bind",
            reference=binding_id,
            phone=phone,
            ttl=ttl,
            language=row["language"],
        )
    else:
        if not password_ok:
            await lockout.failure(redis, data.person_id, source)
        await otp.plant_unusable_code(redis, purpose="bind", reference=binding_id, ttl=ttl)
    return Pending(id=binding_id, expires_in=ttl, message=_PENDING_MESSAGE)


@post(
    "/v1/device-bindings/{binding_id:str}/complete",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["devices"],
    summary="Finish binding with the SMS code; the new device is signed in and payouts cool off",
    status_code=HTTP_201_CREATED,
)
async def complete_binding(
    binding_id: FromPath[str],
    data: JSONBody[DeviceBindingComplete],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    tokens: Tokens,
) -> SessionView:
    wrong = Unauthorized("The code is wrong or has expired.", slug="invalid-code", title="Invalid code")
    if len(binding_id) > 64:
        raise wrong
    jwk = verified_device_key(data.device, bind_message(binding_id), data.signature)
    if not await otp.check_code(redis, purpose="bind", reference=binding_id, code=data.code):
        raise wrong
    raw = await redis.getdel(f"bind:{binding_id}")
    if raw is None:
        raise wrong
    account_id = uuid.UUID(json.loads(raw)["account_id"])
    return await _bind_new_device(db, settings, tokens, account_id, data.device, jwk, via="password+otp")


async def _bind_new_device(
    db: asyncpg.Pool,
    settings: Settings,
    tokens: TokenService,
    account_id: uuid.UUID,
    device: DeviceIn,
    jwk: dict[str, str],
    *,
    via: str,
) -> SessionView:
    """Bind ``device`` to the account, start payout cooling-off, tell the other devices, sign in."""
    locked_until = datetime.now(UTC) + timedelta(seconds=settings.accounts.payout_cooling_off_seconds)
    async with db.acquire() as conn, conn.transaction():
        account = await conn.fetchrow(
            """UPDATE accounts SET payout_locked_until = greatest(payout_locked_until, $2), updated_at = now()
               WHERE id = $1 AND state = 'active' RETURNING level""",
            account_id,
            locked_until,
        )
        if account is None:
            raise Forbidden("This account is frozen.", slug="account-frozen", title="Account frozen")
        device_id = await insert_device(conn, account_id, device, jwk)
        await publish(
            conn,
            "account.device_bound",
            {
                "account_id": str(account_id),
                "device_id": device_id,
                "device_name": device.name.strip(),
                "payout_locked_until": locked_until.isoformat(),
            },
            key=str(account_id),
        )
        await record(
            conn,
            actor=f"citizen:{account_id}",
            action="device.bound",
            subject=f"account:{account_id}",
            details={"device_id": device_id, "via": via},
        )
    session = await start_session(
        db,
        tokens,
        account_id=str(account_id),
        device_id=device_id,
        level=account["level"],
        auth_time=int(time.time()),
        refresh_ttl_days=settings.accounts.refresh_token_ttl_days,
    )
    return session_view(session)


@post(
    "/v1/devices/pairings",
    guards=[citizen, fresh_device_signature()],
    opt=NOT_REPLAYED,
    tags=["devices"],
    summary="Add a phone from a signed-in one (fresh device signature): a pairing code for the new phone",
    status_code=HTTP_201_CREATED,
)
async def start_pairing(principal: Caller, redis: RedisClient) -> Pending:
    await hit(redis, "pairing", principal.subject, limit=5, window=3600)
    pairing_id = secrets.token_urlsafe(24)
    await redis.set(f"pair:{pairing_id}", json.dumps({"account_id": principal.subject}), ex=_PAIRING_TTL)
    return Pending(
        id=pairing_id,
        expires_in=_PAIRING_TTL,
        message="Scan this code with the new phone within two minutes.",
    )


@post(
    "/v1/devices/pairings/{pairing_id:str}/complete",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["devices"],
    summary="The new phone finishes pairing with its key; payouts cool off",
    status_code=HTTP_201_CREATED,
)
async def complete_pairing(
    pairing_id: FromPath[str],
    data: JSONBody[DevicePairingComplete],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    tokens: Tokens,
) -> SessionView:
    if len(pairing_id) > 64:
        raise _bad_pairing()
    jwk = verified_device_key(data.device, bind_message(pairing_id), data.signature)
    raw = await redis.getdel(f"pair:{pairing_id}")
    if raw is None:
        raise _bad_pairing()
    account_id = uuid.UUID(json.loads(raw)["account_id"])
    return await _bind_new_device(db, settings, tokens, account_id, data.device, jwk, via="pairing")


def _bad_pairing() -> Unauthorized:
    return Unauthorized(
        "The pairing code is unknown, expired or used.", slug="invalid-pairing", title="Invalid pairing"
    )


@get("/v1/devices", guards=[citizen], tags=["devices"], summary="My bound devices")
async def list_devices(principal: Caller, db: Db) -> list[DeviceView]:
    rows = await db.fetch(
        """SELECT id, name, push_platform, bound_at, last_seen_at FROM devices
           WHERE account_id = $1 AND revoked_at IS NULL ORDER BY bound_at""",
        uuid.UUID(principal.subject),
    )
    return [
        DeviceView(
            id=str(r["id"]),
            name=r["name"],
            push_platform=r["push_platform"],
            bound_at=r["bound_at"],
            last_seen_at=r["last_seen_at"],
            current=str(r["id"]) == principal.device_id,
        )
        for r in rows
    ]


@patch("/v1/devices/{device_id:uuid}", guards=[citizen], tags=["devices"], summary="Rename one of my devices")
async def rename_device(
    principal: Caller, device_id: FromPath[uuid.UUID], data: JSONBody[DeviceRename], db: Db
) -> None:
    done = await db.fetchval(
        "UPDATE devices SET name = $3 WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL RETURNING id",
        device_id,
        uuid.UUID(principal.subject),
        data.name.strip(),
    )
    if done is None:
        raise NotFound("No such device on your account.")


@delete(
    "/v1/devices/{device_id:uuid}",
    guards=[citizen, fresh_device_signature()],
    tags=["devices"],
    summary="Revoke one of my devices (needs a fresh device signature)",
    status_code=HTTP_204_NO_CONTENT,
)
async def revoke_device(principal: Caller, device_id: FromPath[uuid.UUID], db: Db, redis: RedisClient) -> None:
    account_id = uuid.UUID(principal.subject)
    async with db.acquire() as conn, conn.transaction():
        done = await conn.fetchval(
            """UPDATE devices SET revoked_at = now()
               WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL RETURNING id""",
            device_id,
            account_id,
        )
        if done is None:
            raise NotFound("No such device on your account.")
        await revoke_device_sessions(conn, device_id, "device-revoked")
        await record(
            conn,
            actor=principal.key,
            action="device.revoked",
            subject=f"account:{account_id}",
            details={"device_id": str(device_id)},
        )
    await publish_session_end(redis, account_id, str(device_id))  # its open streams close
