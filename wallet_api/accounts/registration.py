"""Level-1 registration from the app: ID number, name, date of birth and phone, then an SMS code.

Level 1 is the registry's facts *and* the SIM owner check: the carriers' subscriber
database must register the phone to the same ID number, so that someone who knows a
person's three printed facts cannot open that person's account on their own phone.

No user enumeration: ``POST /v1/registrations`` answers the same way whether the details
match a living person without an account or not. Only when they match is a code sent to the
phone; otherwise an unusable code is planted so that completing fails exactly as a wrong
code would. Both databases are asked on every request, whatever the details, so the work
done does not depend on them either. Refused silently (no code): unknown number, name or
date of birth that do not match the registry, a phone not registered to the person,
deceased, under 14 (children are added from a parent's account), or an existing account
(its owner gets a text pointing to device recovery if the phone matches).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from litestar import Request, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from wallet_api.accounts import otp
from wallet_api.accounts.common import (
    bind_message,
    insert_device,
    normalise_phone,
    request_source,
    session_view,
    verified_device_key,
)
from wallet_api.accounts.id_numbers import InvalidIdNumber, check_consistent
from wallet_api.accounts.names import names_match
from wallet_api.accounts.passwords import hash_password
from wallet_api.accounts.ratelimit import LOCKOUTS, hit
from wallet_api.accounts.registry import RegistryUnavailable
from wallet_api.accounts.schemas import DeviceIn, Pending, RegistrationComplete, RegistrationStart, SessionView
from wallet_api.accounts.sessions import start_session
from wallet_api.accounts.subscribers import phone_owned_by
from wallet_api.kernel import (
    NOT_REPLAYED,
    PUBLIC,
    SMS_SENDER,
    AppServices,
    AppSettings,
    Conflict,
    Db,
    Problem,
    RedisClient,
    SendFailed,
    Tokens,
    Unauthorized,
    ValidationFailed,
    record,
)

__all__ = ["complete_registration", "redeem_code", "start_registration"]

log = logging.getLogger(__name__)

#: Registrations are for people of this age or older; younger children are added by a parent.
MIN_SELF_REGISTRATION_AGE = 14

_PENDING_MESSAGE = "If the details match the population registry, a code has been sent to the phone."
_EXISTING_TEXT = {
    "vi": "Số định danh này đã có tài khoản Citizen Wallet. Nếu bạn đổi điện thoại, hãy chọn 'Khôi phục tài khoản'.",
}


def _wrong_code() -> Unauthorized:
    return Unauthorized("The code is wrong or has expired.", slug="invalid-code", title="Invalid code")


#: Where each code-confirmed flow keeps its pending state in Redis, by the code's purpose.
_PENDING_PREFIX = {"register": "reg", "recover": "recover"}


async def redeem_code(
    request: Request[Any, Any, Any],
    redis: RedisClient,
    *,
    purpose: str,
    reference: str,
    code: str,
    device: DeviceIn,
    signature: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The confirmation step of every flow finished with a texted code (registration, recovery).

    Checks the new device's key and signature first, so that a typo does not burn the code;
    then the code, counted against the person from this source. Answers the pending flow's
    stored state and the device's key; the pending state is gone afterwards.
    """
    if len(reference) > 64:
        raise _wrong_code()
    jwk = verified_device_key(device, bind_message(reference), signature)
    key = f"{_PENDING_PREFIX[purpose]}:{reference}"
    raw = await redis.get(key)
    if raw is None:
        raise _wrong_code()
    pending: dict[str, Any] = json.loads(raw)
    source = request_source(request)
    await LOCKOUTS["otp"].check(redis, pending["person_id"], source)
    if not await otp.check_code(redis, purpose=purpose, reference=reference, code=code):
        await LOCKOUTS["otp"].failure(redis, pending["person_id"], source)
        raise _wrong_code()
    await redis.delete(key)
    await LOCKOUTS["otp"].success(redis, pending["person_id"], source)
    return pending, jwk


@post(
    "/v1/registrations",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["accounts"],
    summary="Start level-1 registration (a code is texted if the details match)",
    status_code=HTTP_202_ACCEPTED,
)
async def start_registration(
    request: Request[Any, Any, Any],
    data: JSONBody[RegistrationStart],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    services: AppServices,
) -> Pending:
    phone = normalise_phone(data.phone)
    try:
        check_consistent(data.person_id, data.date_of_birth)
    except InvalidIdNumber as exc:
        raise ValidationFailed(
            "The ID number is not valid for this date of birth.",
            errors=[{"key": "person_id", "source": "body", "message": str(exc)}],
        ) from exc
    # By source before by person or phone: a stranger's attempts never use up the owner's.
    source = request_source(request)
    await hit(redis, "reg-ip", source, limit=30, window=60)
    await hit(redis, "reg-person", data.person_id, source, limit=5, window=3600)
    await hit(redis, "reg-phone", phone, source, limit=5, window=3600)

    try:
        person, sim_owner = await asyncio.gather(
            services.population.lookup(data.person_id), phone_owned_by(services.subscribers, phone, data.person_id)
        )
    except RegistryUnavailable as exc:
        raise Problem(
            "The population registry is not answering; try again in a few minutes.",
            slug="registry-unavailable",
            title="Registry unavailable",
            status=503,
        ) from exc
    existing = await db.fetchrow("SELECT phone, language FROM accounts WHERE person_id = $1", data.person_id)
    today = datetime.now(UTC).date()
    eligible = (
        person is not None
        and existing is None
        and sim_owner
        and not person.deceased
        and person.date_of_birth == data.date_of_birth
        and names_match(person.full_name, data.full_name)
        and person.age_on(today) >= MIN_SELF_REGISTRATION_AGE
    )
    reg_id = secrets.token_urlsafe(24)
    ttl = settings.accounts.otp_ttl_seconds
    await redis.set(f"reg:{reg_id}", json.dumps({"person_id": data.person_id, "phone": phone}), ex=ttl)
    sms = services.get(SMS_SENDER)
    if eligible:
        await otp.issue_code(redis, sms, purpose="register", reference=reg_id, phone=phone, ttl=ttl)
    else:
        await otp.plant_unusable_code(redis, purpose="register", reference=reg_id, ttl=ttl)
        if existing is not None and existing["phone"] == phone:
            try:
                await sms.send(phone, _EXISTING_TEXT["vi"], reference=f"register-existing:{reg_id}")
            except SendFailed:
                log.warning("existing-account sms failed")
    return Pending(id=reg_id, expires_in=ttl, message=_PENDING_MESSAGE)


@post(
    "/v1/registrations/{registration_id:str}/complete",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["accounts"],
    summary="Finish registration with the SMS code; binds the first device and signs it in",
    status_code=HTTP_201_CREATED,
)
async def complete_registration(
    request: Request[Any, Any, Any],
    registration_id: FromPath[str],
    data: JSONBody[RegistrationComplete],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    tokens: Tokens,
) -> SessionView:
    pending, jwk = await redeem_code(
        request,
        redis,
        purpose="register",
        reference=registration_id,
        code=data.code,
        device=data.device,
        signature=data.signature,
    )
    # Hashed only now: an argon2id hash per unauthenticated request would be a cheap DoS lever.
    password_hash = await hash_password(data.password)

    async with db.acquire() as conn, conn.transaction():
        account_id = await conn.fetchval(
            """INSERT INTO accounts (person_id, phone, password_hash) VALUES ($1, $2, $3)
               ON CONFLICT (person_id) DO NOTHING RETURNING id""",
            pending["person_id"],
            pending["phone"],
            password_hash,
        )
        if account_id is None:
            raise Conflict("This person already has an account; recover it from a new device instead.")
        device_id = await insert_device(conn, account_id, data.device, jwk)
        await record(
            conn,
            actor=f"citizen:{account_id}",
            action="account.registered",
            subject=f"account:{account_id}",
            details={"device_id": device_id, "level": 1, "sim_owner_checked": True},
        )
    session = await start_session(
        db,
        tokens,
        account_id=str(account_id),
        device_id=device_id,
        level=1,
        auth_time=int(datetime.now(UTC).timestamp()),
        refresh_ttl_days=settings.accounts.refresh_token_ttl_days,
    )
    return session_view(session)
