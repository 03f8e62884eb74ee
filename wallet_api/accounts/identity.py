"""Who a citizen is: their account, level 2 by a police officer, children, deaths.

* Level 2 (định danh mức 2): a police officer checks the chip card and biometrics in person
  and confirms it here; the change is audited and announced (``account.level_raised``).
* Children under 14 are managed from their parents' accounts: the registry's parent link
  proves the relation, and each parent who links becomes a guardian of the child's account
  until the 14th birthday (``guardianship``); both registered parents may.
* A death reported to the registry freezes the person's account, ends its sessions and
  announces ``account.frozen`` (reason ``deceased``) so payments stop.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from litestar import get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from wallet_api.accounts import otp
from wallet_api.accounts.common import normalise_phone, phone_hint
from wallet_api.accounts.guardianship import (
    GuardianshipEnded,
    current_guardians,
    link_guardian,
    managed_among,
    tell_other_guardians,
)
from wallet_api.accounts.level_two import raise_to_level_2
from wallet_api.accounts.ratelimit import hit
from wallet_api.accounts.registration import MIN_SELF_REGISTRATION_AGE
from wallet_api.accounts.registry import PopulationRegistry, RegistryUnavailable
from wallet_api.accounts.registry.problem import registry_down
from wallet_api.accounts.schemas import (
    AccountView,
    ChildLinkRequest,
    ChildView,
    DeathReport,
    LevelTwoRequest,
    Pending,
    PhoneChange,
    PhoneChangeConfirm,
)
from wallet_api.accounts.sessions import revoke_account_sessions
from wallet_api.accounts.subscribers import phone_owned_by
from wallet_api.kernel import (
    NOT_REPLAYED,
    SMS_SENDER,
    AppServices,
    AppSettings,
    BadRequest,
    Caller,
    Conflict,
    Db,
    NotFound,
    RedisClient,
    Unauthorized,
    citizen,
    citizen_level,
    fresh_device_signature,
    officer_with_role,
    publish,
    publish_session_end,
    record,
)

__all__ = [
    "change_phone",
    "confirm_phone",
    "freeze_deceased",
    "link_child",
    "list_children",
    "me",
    "raise_to_level_two",
    "report_death",
]


async def _account_view(population: PopulationRegistry, db: asyncpg.Pool, account_id: uuid.UUID) -> AccountView:
    row = await db.fetchrow("SELECT * FROM accounts WHERE id = $1", account_id)
    if row is None:
        raise NotFound("No such account.")
    try:
        person = await population.lookup(row["person_id"])
    except RegistryUnavailable:
        person = None
    guardians = [str(g) for g in await current_guardians(db, account_id)]
    return AccountView(
        account_id=str(row["id"]),
        level=row["level"],
        state=row["state"],
        language=row["language"],
        phone_hint=phone_hint(row["phone"]),
        full_name=person.full_name if person else None,
        payout_locked_until=row["payout_locked_until"],
        guardian_account_id=guardians[0] if guardians else None,
        guardian_account_ids=guardians,
    )


@get("/v1/me", guards=[citizen], tags=["accounts"], summary="My account")
async def me(principal: Caller, db: Db, services: AppServices) -> AccountView:
    return await _account_view(services.population, db, uuid.UUID(principal.subject))


@post(
    "/v1/identity/level-2",
    guards=[officer_with_role("police_officer")],
    tags=["identity"],
    summary="Police: confirm an in-person check (chip card and biometrics); the account rises to level 2",
    status_code=HTTP_200_OK,
)
async def raise_to_level_two(principal: Caller, data: JSONBody[LevelTwoRequest], db: Db) -> dict[str, Any]:
    if not (data.chip_card_checked and data.biometrics_checked):
        raise BadRequest("Level 2 needs both the chip card and the biometric check.", slug="in-person-check-incomplete")
    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT id, level, state FROM accounts WHERE person_id = $1 FOR UPDATE", data.person_id
        )
        if row is None:
            raise NotFound("This person has no account yet; they register in the app first.")
        if row["state"] != "active":
            raise Conflict("The account is frozen.", slug="account-frozen")
        await raise_to_level_2(conn, row["id"], actor=principal.key, via="police", details={"org_id": principal.org_id})
    return {"account_id": str(row["id"]), "level": 2}


async def freeze_deceased(conn: asyncpg.Connection, person_id: str, died_on: date, actor: str) -> uuid.UUID | None:
    """Freeze the person's account (if any), end its sessions and announce it; idempotent."""
    account_id = await conn.fetchval(
        """UPDATE accounts SET state = 'frozen', frozen_reason = 'deceased', updated_at = now()
           WHERE person_id = $1 AND state <> 'frozen' RETURNING id""",
        person_id,
    )
    if account_id is None:
        return None
    assert isinstance(account_id, uuid.UUID)
    await revoke_account_sessions(conn, account_id, "deceased")
    await publish(
        conn,
        "account.frozen",
        {"account_id": str(account_id), "reason": "deceased", "died_on": died_on.isoformat()},
        key=str(account_id),
    )
    await record(
        conn, actor=actor, action="account.frozen", subject=f"account:{account_id}", details={"reason": "deceased"}
    )
    return account_id


@post(
    "/v1/identity/deaths",
    guards=[officer_with_role("police_officer")],
    tags=["identity"],
    summary="Police: record a death reported to the registry; the person's account is frozen",
    status_code=HTTP_200_OK,
)
async def report_death(principal: Caller, data: JSONBody[DeathReport], db: Db, redis: RedisClient) -> dict[str, Any]:
    if data.died_on > datetime.now(UTC).date():
        raise BadRequest("The date of death is in the future.")
    async with db.acquire() as conn, conn.transaction():
        # The local registry is updated when it is the one in use (development, tests);
        # a real registry is the source of the report and is not written to.
        await conn.execute(
            """UPDATE population SET status = 'deceased', died_on = $2, updated_at = now()
               WHERE person_id = $1 AND status = 'alive'""",
            data.person_id,
            data.died_on,
        )
        account_id = await freeze_deceased(conn, data.person_id, data.died_on, principal.key)
    if account_id is not None:
        await publish_session_end(redis, account_id)  # its open streams close
    return {"account_id": str(account_id) if account_id else None, "state": "frozen" if account_id else None}


@get("/v1/me/children", guards=[citizen], tags=["accounts"], summary="My children under 14 in the registry")
async def list_children(principal: Caller, db: Db, services: AppServices) -> list[ChildView]:
    own = uuid.UUID(principal.subject)
    person_id = await db.fetchval("SELECT person_id FROM accounts WHERE id = $1", own)
    if person_id is None:
        raise NotFound("No such account.")
    try:
        children = await services.population.children_of(person_id)
    except RegistryUnavailable as exc:
        raise registry_down() from exc
    today = datetime.now(UTC).date()
    minors = [c for c in children if not c.deceased and c.age_on(today) < MIN_SELF_REGISTRATION_AGE]
    accounts = {
        r["person_id"]: r["id"]
        for r in await db.fetch(
            "SELECT id, person_id FROM accounts WHERE person_id = ANY($1::text[])", [c.person_id for c in minors]
        )
    }
    mine = await managed_among(db, own, list(accounts.values()))
    return [
        ChildView(
            person_id=c.person_id,
            full_name=c.full_name,
            date_of_birth=c.date_of_birth,
            account_id=str(accounts[c.person_id]) if c.person_id in accounts else None,
            managed_by_me=c.person_id in accounts and accounts[c.person_id] in mine,
        )
        for c in minors
    ]


@post(
    "/v1/me/children",
    guards=[citizen_level(2)],
    opt=NOT_REPLAYED,
    tags=["accounts"],
    summary="Open and manage the account of my child under 14 (level 2)",
    status_code=HTTP_201_CREATED,
)
async def link_child(principal: Caller, data: JSONBody[ChildLinkRequest], db: Db, services: AppServices) -> ChildView:
    own = uuid.UUID(principal.subject)
    parent = await db.fetchrow("SELECT person_id, phone FROM accounts WHERE id = $1 AND state = 'active'", own)
    if parent is None:
        raise NotFound("No such account.")
    try:
        child = await services.population.lookup(data.person_id)
    except RegistryUnavailable as exc:
        raise registry_down() from exc
    # "Not your child" and "no such person" are the same answer: no probing the registry.
    if child is None or parent["person_id"] not in (child.father_id, child.mother_id):
        raise NotFound("The registry does not list this person as your child.", slug="not-your-child")
    today = datetime.now(UTC).date()
    if child.deceased:
        raise Conflict("The registry reports this child deceased.", slug="person-deceased")
    if child.age_on(today) >= MIN_SELF_REGISTRATION_AGE:
        raise Conflict("Children of 14 or older register themselves.", slug="child-too-old")
    b = child.date_of_birth
    try:
        until = b.replace(year=b.year + MIN_SELF_REGISTRATION_AGE)
    except ValueError:  # born 29 February
        until = date(b.year + MIN_SELF_REGISTRATION_AGE, 3, 1)
    # Each registered parent links alike, the second as the first: the registry names them
    # as the child's parent, and they are at level 2 (proved in person or by chip and face).
    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """INSERT INTO accounts (person_id, phone) VALUES ($1, $2)
               ON CONFLICT (person_id) DO UPDATE SET updated_at = accounts.updated_at
               RETURNING id""",
            child.person_id,
            parent["phone"],
        )
        try:
            linked = await link_guardian(conn, row["id"], own, until)
        except GuardianshipEnded as exc:
            raise Conflict("Your guardianship of this child's account has ended.", slug="guardianship-ended") from exc
        if linked:
            await record(
                conn,
                actor=principal.key,
                action="account.child_linked",
                subject=f"account:{row['id']}",
                details={"guardian_account_id": str(own)},
            )
            await tell_other_guardians(conn, row["id"], own)
    return ChildView(
        person_id=child.person_id,
        full_name=child.full_name,
        date_of_birth=child.date_of_birth,
        account_id=str(row["id"]),
        managed_by_me=True,
    )


@post(
    "/v1/me/phone",
    guards=[citizen, fresh_device_signature()],
    opt=NOT_REPLAYED,
    tags=["accounts"],
    summary="Change my phone number (fresh device signature); a code is texted if the number is registered to me",
    status_code=HTTP_202_ACCEPTED,
)
async def change_phone(
    principal: Caller,
    data: JSONBody[PhoneChange],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    services: AppServices,
) -> Pending:
    """The new number must be registered to the account's person at the carriers (SIM owner).

    A number that is not gets the same answer and an unusable code: a squatter signed in to
    someone else's identity must not be able to test numbers until they find the owner's.
    """
    phone = normalise_phone(data.phone)
    await hit(redis, "phone-change", principal.subject, limit=5, window=3600)
    person_id = await db.fetchval("SELECT person_id FROM accounts WHERE id = $1", uuid.UUID(principal.subject))
    if person_id is None:
        raise NotFound("No such account.")
    owned = await phone_owned_by(services.subscribers, phone, person_id)
    change_id = secrets.token_urlsafe(24)
    ttl = settings.accounts.otp_ttl_seconds
    await redis.set(f"phone:{change_id}", json.dumps({"account_id": principal.subject, "phone": phone}), ex=ttl)
    if owned:
        await otp.issue_code(
            redis, services.get(SMS_SENDER), purpose="phone", reference=change_id, phone=phone, ttl=ttl
        )
    else:
        await otp.plant_unusable_code(redis, purpose="phone", reference=change_id, ttl=ttl)
    return Pending(
        id=change_id, expires_in=ttl, message="If the number is registered to you, a code has been sent to it."
    )


@post(
    "/v1/me/phone/{change_id:str}/confirm",
    guards=[citizen],
    opt=NOT_REPLAYED,
    tags=["accounts"],
    summary="Confirm the new phone number with the texted code; payouts cool off",
    status_code=HTTP_200_OK,
)
async def confirm_phone(
    principal: Caller,
    change_id: FromPath[str],
    data: JSONBody[PhoneChangeConfirm],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    services: AppServices,
) -> AccountView:
    wrong = Unauthorized("The code is wrong or has expired.", slug="invalid-code", title="Invalid code")
    raw = await redis.get(f"phone:{change_id}") if len(change_id) <= 64 else None
    if raw is None or json.loads(raw)["account_id"] != principal.subject:
        raise wrong
    if not await otp.check_code(redis, purpose="phone", reference=change_id, code=data.code):
        raise wrong
    await redis.delete(f"phone:{change_id}")
    phone = json.loads(raw)["phone"]
    account_id = uuid.UUID(principal.subject)
    locked_until = datetime.now(UTC) + timedelta(seconds=settings.accounts.payout_cooling_off_seconds)
    async with db.acquire() as conn, conn.transaction():
        done = await conn.fetchval(
            """UPDATE accounts SET phone = $2, payout_locked_until = greatest(payout_locked_until, $3),
                   updated_at = now()
               WHERE id = $1 AND state = 'active' RETURNING id""",
            account_id,
            phone,
            locked_until,
        )
        if done is None:
            raise Conflict("The account is frozen.", slug="account-frozen")
        await publish(
            conn,
            "account.phone_changed",
            {"account_id": principal.subject, "payout_locked_until": locked_until.isoformat()},
            key=principal.subject,
        )
        await record(conn, actor=principal.key, action="account.phone_changed", subject=f"account:{account_id}")
    return await _account_view(services.population, db, account_id)
