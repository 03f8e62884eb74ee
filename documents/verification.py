"""The verification API: one endpoint for online codes and offline payloads.

Online: the code is looked up and burnt atomically in Redis (a Lua script), so two
verifiers racing for one code cannot both succeed; a code limited to one verifier is left
intact when another presents it. Offline: the signature, issuer key and validity are
checked as any verifier would, and the status comes straight from the database.

Every verification that identifies a document is written to the holder's access log and
published as ``document.viewed``, refusals included (the holder should know someone tried).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import time
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
import redis.asyncio as aioredis
from litestar import Request, post
from litestar.datastructures import State
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from redis.exceptions import RedisError

from documents.access_log import recorder_for
from documents.guards import verifier
from documents.issuer_keys import lookup_issuer_key_prefix
from documents.offline import PREFIX, check_offline, kid_prefix, open_offline
from documents.presentation import USED_MARKER_SECONDS, code_keys
from documents.schemas import VerificationOut, VerifyRequest
from documents.sdjwt import CredentialError
from documents.service import today_ict
from documents.types import DocumentType, all_types, get_type
from documents.verdict import refusal_detail
from wallet_api.kernel import (
    DIRECT_JSON,
    NOT_REPLAYED,
    Batcher,
    LeasedWindowLimiter,
    LuaScript,
    Principal,
    Problem,
    Services,
    ServiceUnavailable,
    TooManyRequests,
    enforce,
    principal_of,
)

__all__ = ["ROUTES", "VerificationRefused", "check"]

# The burns of the verifications that arrive together, in one script (see _burn_many).
# KEYS, four per code: live record, issued marker, used marker, the caller's rate window.
# ARGV: the used-marker ttl, then two per code: the caller's organisation and limit per minute.
# The rate count rides in the same script so that an online verification costs no Redis
# call of its own. Codes are burnt one after another, so the same code twice in one batch
# is burnt once and then reported as used.
_BURN = LuaScript("""
local function burn(live, issued, used, window, org, limit)
  local calls = redis.call('INCR', window)
  if calls == 1 then redis.call('EXPIRE', window, 61) end
  if calls > limit then return {'rate-limited'} end
  local record = redis.call('HGETALL', live)
  if #record == 0 then
    if redis.call('EXISTS', used) == 1 then return {'used'} end
    if redis.call('EXISTS', issued) == 1 then return {'expired'} end
    return {'unknown'}
  end
  local aud = redis.call('HGET', live, 'aud')
  if aud and aud ~= '' and aud ~= org then return {'wrong-verifier'} end
  redis.call('DEL', live)
  redis.call('SET', used, '1', 'EX', tonumber(ARGV[1]))
  table.insert(record, 1, 'ok')
  return record
end
local out = {}
for i = 0, #KEYS / 4 - 1 do
  local k, a = i * 4, i * 2
  out[i + 1] = burn(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], ARGV[a + 2], tonumber(ARGV[a + 3]))
end
return out
""")


@dataclass(frozen=True, slots=True)
class _Burn:
    code: str
    org_id: str
    window: str  # the caller's rate-window key
    limit: int


async def _burn_many(redis: aioredis.Redis, burns: list[_Burn]) -> list[list[Any]]:
    keys: list[str] = []
    args: list[Any] = [USED_MARKER_SECONDS]
    for b in burns:
        keys += (*code_keys(b.code), b.window)
        args += (b.org_id, b.limit)
    return list(await _BURN(redis, tuple(keys), *args))


_CODE = re.compile(r"^[A-Za-z0-9_-]{32}$")

_REFUSALS: dict[str, tuple[int, str]] = {
    "code-unknown": (404, "No such presentation code"),
    "code-expired": (410, "The presentation code has expired"),
    "code-replayed": (409, "The presentation code was already used"),
    "wrong-verifier": (403, "The presentation code is meant for another verifier"),
    "malformed-payload": (400, "Not a wallet QR code"),
    "tampered": (422, "The payload was altered or damaged"),
    "unknown-issuer": (422, "Signed by an unknown issuer key"),
    "expired": (422, "The presentation has expired"),
    "not-yet-valid": (422, "The presentation is not valid yet"),
    "document-expired": (422, "The document has expired"),
    "document-revoked": (422, "The document was revoked"),
    "document-suspended": (422, "The document is suspended"),
}


class VerificationRefused(Problem):
    #: What the OpenAPI document lists for a route raising it (the slug is chosen at run time).
    documented = tuple((status, slug, title) for slug, (status, title) in _REFUSALS.items())

    def __init__(self, slug: str, detail: str) -> None:
        status, title = _REFUSALS[slug]
        super().__init__(detail, slug=slug, title=title, status=status)


_TOO_MANY = "Too many verifications from this verifier; slow down."


def _too_many() -> TooManyRequests:
    return TooManyRequests(_TOO_MANY, retry_after=LeasedWindowLimiter.retry_after())


@functools.cache
def _limiter(limit: int) -> LeasedWindowLimiter:
    # Online verifications count in the burn script, on the same per-minute key.
    return LeasedWindowLimiter("doc:verify-rate", limit)


async def _rate_limit(redis: aioredis.Redis, principal: Principal, limit: int) -> None:
    await enforce(_limiter(limit), redis, principal.key, detail=_TOO_MANY)


# What the access log and the answer need besides the document, read in the statement
# that logs the verification (documents/access_log.py): the holder's account, and the names
# of the issuer and of the verifier (``r.org``). Each statement reads the documents of all
# the verifications that arrive together (``r``, numbered by ``n``).
_NAMES = """(SELECT id FROM accounts WHERE person_id = d.holder_id) AS holder_account_id,
            (SELECT name FROM organisations WHERE id = d.issuer_org_id) AS issuer_name,
            (SELECT name FROM organisations WHERE id = r.org) AS verifier_name,
            r.org AS verifier_org_id, r.verifier, d.id, d.doc_type, d.issuer_org_id, d.state,
            d.valid_from, d.valid_until"""

# ``shown`` is the keys of DocumentType.reveal: each asked field the claims hold, and the
# type's derived fields ($3, as "type:field"), in the order asked.
_READ_ONLINE = f"""SELECT r.n, d.claims, a.level, NULL::smallint AS credential_status, {_NAMES},
       ARRAY(SELECT x.f FROM jsonb_array_elements_text(r.fields::jsonb) WITH ORDINALITY AS x(f, i)
             WHERE d.claims ? x.f OR d.doc_type || ':' || x.f = ANY($3::text[]) ORDER BY x.i) AS shown
FROM unnest($4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::text[])
     WITH ORDINALITY AS r(doc, acct, org, verifier, fields, n)
JOIN documents d ON d.id = r.doc LEFT JOIN accounts a ON a.id = r.acct"""

# A credential of another issuer or type than the payload says is no match: nothing is logged.
_READ_OFFLINE = f"""SELECT r.n, c.status AS credential_status, {_NAMES},
       ARRAY(SELECT jsonb_array_elements_text(r.fields::jsonb)) AS shown
FROM unnest($3::uuid[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
     WITH ORDINALITY AS r(list, idx, org, verifier, issuer, doc_type, fields, n)
JOIN credentials c ON c.status_list_id = r.list AND c.status_idx = r.idx
JOIN documents d ON d.id = c.document_id AND d.issuer_org_id = r.issuer AND d.doc_type = r.doc_type"""


@functools.cache
def _derived_fields() -> tuple[list[str]]:
    return ([f"{t.code}:{name}" for t in all_types() for name in t.derived],)


def _refusal(row: asyncpg.Record) -> VerificationRefused | None:
    outcome = row["outcome"]  # documents/verdict.py decided it, in the statement that logged it
    if outcome == "valid":
        return None
    return VerificationRefused(outcome, refusal_detail(outcome, row["valid_until"]))


def _answer(
    row: asyncpg.Record, doc_type: DocumentType, *, channel: str, fields: dict[str, Any], level: int | None
) -> VerificationOut:
    """The answer for a verification already logged (``row`` from the access-log statement)."""
    refusal = _refusal(row)
    if refusal is not None:
        raise refusal
    return VerificationOut(
        kind="online" if channel == "online" else "offline",
        status="valid",
        document_type=doc_type.code,
        title=doc_type.title.as_dict(),
        issuer={"id": row["issuer_org_id"], "name": row["issuer_name"]},
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        holder_level=level,
        fields=fields,
        labels={name: doc_type.label(name).as_dict() for name in fields},
        checked_at=dt.datetime.now(dt.UTC),
    )


async def _verify_online(services: Services, principal: Principal, payload: str, limit: int) -> VerificationOut:
    db, redis, batchers = services.pool, services.redis, services.batchers
    code = payload.rsplit("/v/", 1)[-1] if "/v/" in payload else payload
    if not _CODE.match(code):
        raise VerificationRefused("malformed-payload", "This is neither a presentation code nor a wallet QR payload.")
    # Not retried item by item: a burn that reached Redis must not be run again.
    burner = batchers.get("verification-burns", lambda: Batcher(functools.partial(_burn_many, redis)))
    try:
        reply = await burner.submit(_Burn(code, principal.org_id or "", _limiter(limit).key(principal.key), limit))
    except RedisError:
        raise ServiceUnavailable(
            "Online codes cannot be checked right now; scan the holder's offline QR code instead.",
            retry_after=5,
        ) from None
    verdict = reply[0].decode() if isinstance(reply[0], bytes) else reply[0]
    if verdict == "rate-limited":
        raise _too_many()
    if verdict != "ok":
        slug = {"used": "code-replayed", "expired": "code-expired", "unknown": "code-unknown"}.get(verdict, verdict)
        detail = {
            "code-replayed": "This code was already used; ask the holder for a new one.",
            "code-expired": "This code has expired; ask the holder for a new one.",
            "code-unknown": "No such code.",
            "wrong-verifier": "The holder made this code for another verifier.",
        }[slug]
        raise VerificationRefused(slug, detail)
    flat = [v.decode() if isinstance(v, bytes) else v for v in reply[1:]]
    record = dict(zip(flat[::2], flat[1::2], strict=True))
    recorder = recorder_for(batchers, db, "online", _READ_ONLINE, _derived_fields())
    doc = await recorder.submit((record["doc"], record["acct"], principal.org_id, principal.key, record["fields"]))
    if doc is None:
        raise VerificationRefused("code-unknown", "The document of this code no longer exists.")
    doc_type = get_type(doc["doc_type"])
    assert doc_type is not None
    fields = doc_type.reveal(doc["claims"], json.loads(record["fields"]), today_ict())
    return _answer(doc, doc_type, channel="online", fields=fields, level=doc["level"])


async def _verify_offline(services: Services, principal: Principal, payload: str) -> VerificationOut:
    db = services.pool
    envelope = open_offline(payload)
    issuer = await lookup_issuer_key_prefix(db, kid_prefix(envelope))
    claims = check_offline(envelope, issuer, now=int(time.time()))
    recorder = recorder_for(services.batchers, db, "offline", _READ_OFFLINE)
    row = await recorder.submit(
        (
            claims.status_list_id,
            claims.status_idx,
            principal.org_id,
            principal.key,
            claims.org_id,
            claims.doc_type.code,
            json.dumps(list(claims.fields)),
        )
    )
    if row is None:
        raise VerificationRefused("tampered", "The payload points at no credential of this issuer.")
    return _answer(row, claims.doc_type, channel="offline", fields=claims.fields, level=claims.level)


async def check(state: State, principal: Principal, data: VerifyRequest) -> VerificationOut:
    """Verify what the holder showed: the route's work, apart from HTTP."""
    services = cast(Services, state.services)
    limit = services.settings.documents.verify_rate_per_minute
    payload = data.payload.strip()
    try:
        if payload.startswith(PREFIX):
            await _rate_limit(services.redis, principal, limit)
            return await _verify_offline(services, principal, payload)
        return await _verify_online(services, principal, payload, limit)
    except CredentialError as exc:
        raise VerificationRefused(exc.slug, exc.detail) from None


@post(
    "/verifications",
    guards=[verifier],
    opt=NOT_REPLAYED,
    middleware=[DIRECT_JSON],  # ordinary verifications skip Litestar's parsing (wallet_api/direct_json.py)
    tags=["verification"],
    summary="Verify what a holder showed: an online code (URL) or an offline QR payload",
    status_code=HTTP_200_OK,
)
async def verify(request: Request[Any, Any, Any], data: JSONBody[VerifyRequest]) -> VerificationOut:
    # The pool, Redis and settings are read from the app's state rather than injected: on
    # this, the hottest route, even the chained injection (wallet_api/state.py) costs a
    # signature check per dependency, more than this route's share of its Redis call.
    return await check(request.app.state, principal_of(request), data)


ROUTES = [verify]
