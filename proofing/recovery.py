"""Recovery of an identity by its owner: in the app with chip + face, or at a police desk.

In the app, from a fresh phone (nothing of the old account needed):

1. ``POST /v1/proofing/recoveries`` with the ID number and this phone's number. The answer
   has the same shape whatever the details (no enumeration); a code is texted only when
   the person has an account and the carriers register the phone to them (SIM owner).
   It carries a chip challenge.
2. ``POST /v1/proofing/recoveries/{id}/complete`` with the code, a new password, this
   phone's device key (signed over ``citizen-wallet:bind:<id>``), and the chip read, its
   answer to the challenge and a selfie. When the chip is this person's, genuine, matches
   the registry and the selfie matches it, the account is given back (:mod:`proofing.rebind`)
   at level 2 with this phone as its only device, which is signed in.

At a police desk: ``POST /v1/identity/rebind`` (police officer) after checking the chip card
and the face in person gives the account back at once and texts a code to the person's own
phone; the person binds their phone with ``POST /v1/proofing/rebinds/{id}/complete``.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

from litestar import Request, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from proofing.challenges import new_challenge, take_challenge
from proofing.chip import ChipRefused
from proofing.rebind import after_rebind, rebind_identity
from proofing.routes import record_refusal
from proofing.schemas import RebindRequest, RecoveryComplete, RecoveryStart, RecoveryStarted
from proofing.service import prove_holder
from proofing.upload import UPLOAD_LIMITS
from wallet_api.accounts import otp
from wallet_api.accounts.common import (
    bind_message,
    insert_device,
    normalise_phone,
    request_source,
    session_view,
    verified_device_key,
)
from wallet_api.accounts.passwords import hash_password
from wallet_api.accounts.ratelimit import hit
from wallet_api.accounts.registration import redeem_code
from wallet_api.accounts.schemas import DeviceIn, RegistrationComplete, SessionView
from wallet_api.accounts.sessions import start_session
from wallet_api.accounts.subscribers import phone_owned_by
from wallet_api.kernel import (
    NOT_REPLAYED,
    PUBLIC,
    SMS_SENDER,
    AppServices,
    AppSettings,
    BadRequest,
    Caller,
    Db,
    NotFound,
    Problem,
    RedisClient,
    Tokens,
    Unauthorized,
    officer_with_role,
    record,
)

__all__ = ["ROUTES"]

_MESSAGE = "If the details are right, a code has been sent to this phone. Read your chip ID card next."
#: A person rebound at a police desk has this long to bind their phone with the texted code.
_REBIND_TTL = 1800


def _wrong_code() -> Unauthorized:
    return Unauthorized("The code is wrong or has expired.", slug="invalid-code", title="Invalid code")


@post(
    "/v1/proofing/recoveries",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["proofing"],
    summary="Take my identity back on this phone: a code is texted if the details are right; read the chip next",
    status_code=HTTP_202_ACCEPTED,
)
async def start_recovery(
    request: Request[Any, Any, Any],
    data: JSONBody[RecoveryStart],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    services: AppServices,
) -> RecoveryStarted:
    phone = normalise_phone(data.phone)
    # By source before by person or phone: a stranger cannot use up the owner's attempts.
    source = request_source(request)
    await hit(redis, "recover-ip", source, limit=20, window=60)
    await hit(redis, "recover-person", data.person_id, source, limit=5, window=3600)
    await hit(redis, "recover-phone", phone, source, limit=5, window=3600)
    # Both asked every time, so that the answer costs the same whatever the details.
    sim_owner = await phone_owned_by(services.subscribers, phone, data.person_id)
    account = await db.fetchrow("SELECT state FROM accounts WHERE person_id = $1", data.person_id)
    recovery_id = secrets.token_urlsafe(24)
    ttl = settings.accounts.otp_ttl_seconds
    await redis.set(f"recover:{recovery_id}", json.dumps({"person_id": data.person_id, "phone": phone}), ex=ttl)
    if sim_owner and account is not None and account["state"] == "active":
        await otp.issue_code(
            redis, services.get(SMS_SENDER), purpose="recover", reference=recovery_id, phone=phone, ttl=ttl
        )
    else:
        await otp.plant_unusable_code(redis, purpose="recover", reference=recovery_id, ttl=ttl)
    challenge = await new_challenge(redis, f"recovery:{recovery_id}")
    return RecoveryStarted(
        recovery_id=recovery_id,
        challenge_id=challenge.id,
        challenge=challenge.nonce.hex(),
        expires_in=min(ttl, challenge.expires_in),
        message=_MESSAGE,
    )


@post(
    "/v1/proofing/recoveries/{recovery_id:str}/complete",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["proofing"],
    summary="Finish: code, new password, this phone's key, chip read and selfie; the identity is mine at level 2",
    status_code=HTTP_201_CREATED,
    **UPLOAD_LIMITS,
)
async def complete_recovery(
    request: Request[Any, Any, Any],
    recovery_id: FromPath[str],
    data: JSONBody[RecoveryComplete],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    tokens: Tokens,
    services: AppServices,
) -> SessionView:
    pending, jwk = await redeem_code(
        request,
        redis,
        purpose="recover",
        reference=recovery_id,
        code=data.code,
        device=data.device,
        signature=data.signature,
    )
    person_id, phone = pending["person_id"], pending["phone"]
    nonce = await take_challenge(redis, data.challenge_id, f"recovery:{recovery_id}")
    try:
        proven = await prove_holder(services, data, nonce, expected_person_id=person_id)
    except ChipRefused as refusal:
        account_id = await db.fetchval("SELECT id FROM accounts WHERE person_id = $1", person_id)
        await record_refusal(db, actor="recovery:app", subject=f"account:{account_id}", refusal=refusal)
        raise
    password_hash = await hash_password(data.password)
    async with db.acquire() as conn, conn.transaction():
        rebound = await rebind_identity(
            conn,
            person_id,
            phone=phone,
            password_hash=password_hash,
            actor="recovery:app",
            via="chip+face",
            cooling_off_seconds=settings.accounts.payout_cooling_off_seconds,
            details={"document_signer": proven.document_signer, "face_score": proven.face_score},
        )
        device_id = await _bind(conn, rebound.account_id, data.device, jwk, actor="recovery:app")
    await after_rebind(db, redis, services.get(SMS_SENDER), rebound, actor="recovery:app")
    return await _signed_in(db, tokens, settings.accounts.refresh_token_ttl_days, rebound.account_id, device_id)


async def _bind(conn: Any, account_id: uuid.UUID, device: DeviceIn, jwk: dict[str, str], *, actor: str) -> str:
    device_id = await insert_device(conn, account_id, device, jwk)
    await record(
        conn,
        actor=actor,
        action="device.bound",
        subject=f"account:{account_id}",
        details={"device_id": device_id, "via": "recovery"},
    )
    return device_id


async def _signed_in(db: Any, tokens: Any, refresh_days: int, account_id: uuid.UUID, device_id: str) -> SessionView:
    session = await start_session(
        db,
        tokens,
        account_id=str(account_id),
        device_id=device_id,
        level=2,
        auth_time=int(time.time()),
        refresh_ttl_days=refresh_days,
    )
    return session_view(session)


@post(
    "/v1/identity/rebind",
    guards=[officer_with_role("police_officer")],
    opt=NOT_REPLAYED,
    tags=["identity"],
    summary="Police: give this identity back to the person in front of me (chip card and face checked in person)",
    status_code=HTTP_200_OK,
)
async def police_rebind(
    principal: Caller,
    data: JSONBody[RebindRequest],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    services: AppServices,
) -> dict[str, Any]:
    if not (data.chip_card_checked and data.biometrics_checked):
        raise BadRequest(
            "Rebinding needs both the chip card and the biometric check.", slug="in-person-check-incomplete"
        )
    phone = normalise_phone(data.phone)
    if not await phone_owned_by(services.subscribers, phone, data.person_id):
        # The officer has the person in front of them: saying why helps and reveals nothing.
        raise Problem(
            "The carriers do not register this phone number to this person; use a SIM in their own name.",
            slug="phone-not-sim-owner",
            title="The phone is not registered to this person",
            status=422,
        )
    async with db.acquire() as conn, conn.transaction():
        if await conn.fetchval("SELECT 1 FROM accounts WHERE person_id = $1", data.person_id) is None:
            raise NotFound("This person has no account yet; they register in the app.")
        rebound = await rebind_identity(
            conn,
            data.person_id,
            phone=phone,
            password_hash=None,
            actor=principal.key,
            via="police",
            cooling_off_seconds=settings.accounts.payout_cooling_off_seconds,
            details={"org_id": principal.org_id},
        )
    sms = services.get(SMS_SENDER)
    await after_rebind(db, redis, sms, rebound, actor=principal.key)
    rebind_id = secrets.token_urlsafe(24)
    await redis.set(f"rebind:{rebind_id}", json.dumps({"account_id": str(rebound.account_id)}), ex=_REBIND_TTL)
    await otp.issue_code(redis, sms, purpose="rebind", reference=rebind_id, phone=phone, ttl=_REBIND_TTL)
    return {"account_id": str(rebound.account_id), "level": 2, "rebind_id": rebind_id, "expires_in": _REBIND_TTL}


@post(
    "/v1/proofing/rebinds/{rebind_id:str}/complete",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["proofing"],
    summary="After a police rebinding: bind my phone with the texted code and choose a password",
    status_code=HTTP_201_CREATED,
)
async def complete_rebind(
    rebind_id: FromPath[str],
    data: JSONBody[RegistrationComplete],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    tokens: Tokens,
) -> SessionView:
    if len(rebind_id) > 64:
        raise _wrong_code()
    jwk = verified_device_key(data.device, bind_message(rebind_id), data.signature)
    if not await otp.check_code(redis, purpose="rebind", reference=rebind_id, code=data.code):
        raise _wrong_code()
    raw = await redis.getdel(f"rebind:{rebind_id}")
    if raw is None:
        raise _wrong_code()
    account_id = uuid.UUID(json.loads(raw)["account_id"])
    password_hash = await hash_password(data.password)
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE accounts SET password_hash = $2, updated_at = now() WHERE id = $1", account_id, password_hash
        )
        device_id = await _bind(conn, account_id, data.device, jwk, actor=f"citizen:{account_id}")
    return await _signed_in(db, tokens, settings.accounts.refresh_token_ttl_days, account_id, device_id)


ROUTES = [start_recovery, complete_recovery, police_rebind, complete_rebind]
