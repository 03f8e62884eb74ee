"""Device-bound sign-in: challenge, signature, tokens; refresh; step-up; sign-out.

An everyday sign-in costs one Redis script (lock check and ``GETDEL``), one indexed read,
one signature check and one insert — never a password hash; the reads and the inserts of
concurrent sign-ins each go to PostgreSQL together, one statement per batch.
The phone asks for a challenge, signs ``citizen-wallet:sign-in:<challenge>`` with its
P-256 key, and gets a short-lived access token plus a rotating refresh token. Step-up (for
sensitive actions) is the same with ``citizen-wallet:step-up:<challenge>`` from an already
signed-in device, and returns an access token whose ``auth_time`` is now.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, cast

import asyncpg
import redis.asyncio as aioredis
from litestar import Request, post
from litestar.datastructures import State
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from wallet_api.accounts.common import request_source, session_view, signed_message, uuid_or_none
from wallet_api.accounts.device_keys import consume_challenge, issue_challenge, verify_signature
from wallet_api.accounts.ratelimit import LOCKOUTS
from wallet_api.accounts.schemas import (
    ChallengeRequest,
    ChallengeView,
    RefreshRequest,
    SessionView,
    SignInRequest,
    StepUpRequest,
    TokenView,
)
from wallet_api.accounts.sessions import (
    NewSession,
    SessionTokens,
    citizen_principal,
    refresh_session,
    revoke_account_sessions,
    session_store,
)
from wallet_api.kernel import (
    DIRECT_JSON,
    NOT_REPLAYED,
    PUBLIC,
    Caller,
    Db,
    Forbidden,
    RedisClient,
    Services,
    Settings,
    TokenService,
    Unauthorized,
    citizen,
    principal_of,
    publish_session_end,
    record,
)

__all__ = [
    "challenge",
    "new_challenge",
    "refresh",
    "sign_in",
    "sign_in_device",
    "sign_out",
    "sign_out_everywhere",
    "step_up",
]

# The device and its account, read for all the sign-ins (and step-ups) of the moment in one
# query (``Batchers.row_reader``): one statement per batch instead of one per request.
_DEVICES = """
SELECT r.n, d.public_jwk, d.revoked_at, a.id AS account_id, a.level, a.state, a.frozen_reason
FROM unnest($1::uuid[]) WITH ORDINALITY AS r(id, n)
JOIN devices d ON d.id = r.id JOIN accounts a ON a.id = d.account_id
"""


async def _device(services: Services, device: uuid.UUID) -> asyncpg.Record | None:
    return await services.batchers.row_reader(services.pool, _DEVICES).submit((device,))


def _sign_in_failed() -> Unauthorized:
    return Unauthorized("Sign-in failed; bind this device again if it was removed.", slug="sign-in-failed")


def _frozen(reason: str | None) -> Forbidden:
    return Forbidden(
        "This account is frozen." + (" The registry reports the person deceased." if reason == "deceased" else ""),
        slug="account-frozen",
        title="Account frozen",
    )


# The hot authentication routes (challenge, sign-in, refresh, step-up) read the resources
# from the application ``state`` rather than the named dependencies (``db``, ``redis``,
# ``settings``, ``tokens``): Litestar resolves two or more dependencies of a handler in an
# anyio task group, one task each, which cost more CPU than the rest of the sign-in route's
# own Python (measured: about 140 µs a request with four). The resources are the same
# per-process objects.


def _services(state: State) -> Services:
    return cast(Services, state.services)


def _redis(state: State) -> aioredis.Redis:
    return _services(state).redis


def _settings(state: State) -> Settings:
    return _services(state).settings


def _tokens(state: State) -> TokenService:
    return _services(state).tokens


# Challenge and sign-in: their ordinary requests are served by ``DirectJson``
# (wallet_api/direct_json.py), which skips Litestar's per-request parsing and calls these
# same handlers: about 0.3 ms of CPU per sign-in under granian (docs/benchmarks.md).


@post(
    "/v1/auth/challenges",
    opt={**PUBLIC, **NOT_REPLAYED},
    middleware=[DIRECT_JSON],
    tags=["sign-in"],
    summary="A single-use challenge for a device to sign (sign-in or step-up)",
    status_code=HTTP_200_OK,
)
async def challenge(request: Request[Any, Any, Any], data: JSONBody[ChallengeRequest]) -> ChallengeView:
    state = request.app.state
    return await new_challenge(_redis(state), _settings(state), data, request_source(request))


@post(
    "/v1/auth/sign-in",
    opt={**PUBLIC, **NOT_REPLAYED},
    middleware=[DIRECT_JSON],
    tags=["sign-in"],
    summary="Sign in with a device signature",
    status_code=200,
)
async def sign_in(request: Request[Any, Any, Any], data: JSONBody[SignInRequest]) -> SessionView:
    return session_view(await sign_in_device(_services(request.app.state), data, request_source(request)))


# What the two routes do, apart from HTTP: also called by ``bench/signin_floor.py``, which
# measures this same work without a web framework.


async def new_challenge(
    redis: aioredis.Redis, settings: Settings, data: ChallengeRequest, source: str
) -> ChallengeView:
    device = uuid_or_none(data.device_id)
    if device is None:
        raise _sign_in_failed()
    c = await issue_challenge(
        redis, data.purpose, str(device), source=source, ttl=settings.accounts.challenge_ttl_seconds
    )
    return ChallengeView(
        challenge=c.value, expires_in=c.expires_in, sign=signed_message(data.purpose, c.value).decode()
    )


async def sign_in_device(services: Services, data: SignInRequest, source: str) -> SessionTokens:
    """Burn the challenge, check the device's signature, store a session and sign its access token."""
    redis, settings = services.redis, services.settings
    device = uuid_or_none(data.device_id)
    if device is None:
        raise _sign_in_failed()
    device_key = str(device)
    await consume_challenge(redis, data.challenge, "sign-in", device_key, source=source)
    auth_time = int(time.time())
    row = await _device(services, device)
    if (
        row is None
        or row["revoked_at"] is not None
        or not verify_signature(row["public_jwk"], signed_message("sign-in", data.challenge), data.signature)
    ):
        await LOCKOUTS["device"].failure(redis, device_key, source)
        raise _sign_in_failed()
    if row["state"] != "active":
        raise _frozen(row["frozen_reason"])
    refresh = await session_store(services.batchers, services.pool).submit(
        NewSession(row["account_id"], device, auth_time, settings.accounts.refresh_token_ttl_days)
    )
    account_id, level = str(row["account_id"]), row["level"]
    access, expires_in = await services.tokens.issue(citizen_principal(account_id, level, device_key, auth_time))
    return SessionTokens(access, expires_in, refresh, account_id, device_key, level)


@post(
    "/v1/auth/refresh",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["sign-in"],
    summary="Rotate a refresh token",
    status_code=200,
)
async def refresh(data: JSONBody[RefreshRequest], state: State) -> SessionView:
    return session_view(await refresh_session(_services(state).pool, _redis(state), _tokens(state), data.refresh_token))


@post(
    "/v1/auth/step-up",
    guards=[citizen],
    opt=NOT_REPLAYED,
    tags=["sign-in"],
    summary="Confirm with a fresh device signature before a sensitive action",
    status_code=200,
)
async def step_up(request: Request[Any, Any, Any], data: JSONBody[StepUpRequest], state: State) -> TokenView:
    p = principal_of(request)
    redis = _redis(state)
    device = uuid_or_none(p.device_id or "")
    if device is None:
        raise Forbidden("Step-up needs a device session.")
    source = request_source(request)
    await consume_challenge(redis, data.challenge, "step-up", str(device), source=source)
    row = await _device(_services(state), device)
    if (
        row is None
        or str(row["account_id"]) != p.subject
        or row["revoked_at"] is not None
        or not verify_signature(row["public_jwk"], signed_message("step-up", data.challenge), data.signature)
    ):
        await LOCKOUTS["device"].failure(redis, str(device), source)
        raise Unauthorized("The device signature does not verify.", slug="bad-device-signature")
    if row["state"] != "active":
        raise _frozen(row["frozen_reason"])
    principal = citizen_principal(p.subject, row["level"], str(device), int(time.time()))
    access, expires_in = await _tokens(state).issue(principal)
    return TokenView(access_token=access, expires_in=expires_in)


@post(
    "/v1/auth/sign-out",
    guards=[citizen],
    tags=["sign-in"],
    summary="End this device's sessions",
    status_code=HTTP_204_NO_CONTENT,
)
async def sign_out(principal: Caller, db: Db, redis: RedisClient) -> None:
    device = uuid_or_none(principal.device_id or "")
    if device is None:
        return
    async with db.acquire() as conn:
        await conn.execute(
            """UPDATE refresh_families SET revoked_at = now(), revoked_why = 'sign-out'
               WHERE device_id = $1 AND account_id = $2 AND revoked_at IS NULL""",
            device,
            uuid.UUID(principal.subject),
        )
    await publish_session_end(redis, principal.subject, str(device))  # its open streams close


@post(
    "/v1/auth/sign-out-everywhere",
    guards=[citizen],
    tags=["sign-in"],
    summary="End every session of this account on every device",
    status_code=HTTP_204_NO_CONTENT,
)
async def sign_out_everywhere(principal: Caller, db: Db, redis: RedisClient) -> None:
    account_id = uuid.UUID(principal.subject)
    async with db.acquire() as conn, conn.transaction():
        await revoke_account_sessions(conn, account_id, "sign-out-everywhere")
        await record(conn, actor=principal.key, action="session.sign_out_everywhere", subject=f"account:{account_id}")
    await publish_session_end(redis, account_id)  # every open stream of the account closes
