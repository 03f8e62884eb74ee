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
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from litestar import Request, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from redis.exceptions import RedisError

from documents.access_log import View, writer_for
from documents.guards import verifier
from documents.issuer_keys import lookup_issuer_key_prefix
from documents.offline import PREFIX, check_offline, kid_prefix, open_offline
from documents.presentation import USED_MARKER_SECONDS, code_keys
from documents.schemas import VerificationOut, VerifyRequest
from documents.sdjwt import CredentialError
from documents.service import today_ict
from documents.types import DocumentType, get_type
from wallet_api.auth.guards import principal_of
from wallet_api.auth.principal import Principal
from wallet_api.batching import Batcher, for_owner
from wallet_api.problems import Problem, ServiceUnavailable, TooManyRequests
from wallet_api.ratelimit import LeasedWindowLimiter
from wallet_api.redis_client import LuaScript

__all__ = ["ROUTES", "VerificationRefused"]

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
    def __init__(self, slug: str, detail: str) -> None:
        status, title = _REFUSALS[slug]
        super().__init__(detail, slug=slug, title=title, status=status)


def _too_many() -> TooManyRequests:
    return TooManyRequests(
        "Too many verifications from this verifier; slow down.", retry_after=LeasedWindowLimiter.retry_after()
    )


@functools.cache
def _limiter(limit: int) -> LeasedWindowLimiter:
    # Online verifications count in the burn script, on the same per-minute key.
    return LeasedWindowLimiter("doc:verify-rate", limit)


async def _rate_limit(redis: aioredis.Redis, principal: Principal, limit: int) -> None:
    if not await _limiter(limit).allow(redis, principal.key):
        raise _too_many()


# What the access log and the answer need besides the document, read in the same query:
# the holder's account, and the names of the issuer and of the verifier (``r.org``). Each
# query reads the documents of all the verifications that arrive together (``r``, numbered
# by ``n``): one statement per batch instead of one per verification.
_NAMES = """(SELECT id FROM accounts WHERE person_id = d.holder_id) AS holder_account_id,
            (SELECT name FROM organisations WHERE id = d.issuer_org_id) AS issuer_name,
            (SELECT name FROM organisations WHERE id = r.org) AS verifier_name"""

_READ_ONLINE = f"""SELECT r.n, d.*, a.level, {_NAMES}
FROM unnest($1::uuid[], $2::uuid[], $3::text[]) WITH ORDINALITY AS r(doc, acct, org, n)
JOIN documents d ON d.id = r.doc LEFT JOIN accounts a ON a.id = r.acct"""

_READ_OFFLINE = f"""SELECT r.n, d.*, c.status AS credential_status, {_NAMES}
FROM unnest($1::uuid[], $2::int[], $3::text[]) WITH ORDINALITY AS r(list, idx, org, n)
JOIN credentials c ON c.status_list_id = r.list AND c.status_idx = r.idx
JOIN documents d ON d.id = c.document_id"""


async def _read(pool: asyncpg.Pool, sql: str, items: list[tuple[Any, Any, str | None]]) -> list[asyncpg.Record | None]:
    """The row of each item (None: no such document), from one query for the whole batch."""
    columns = list(zip(*items, strict=True))
    found: list[asyncpg.Record | None] = [None] * len(items)
    for row in await pool.fetch(sql, *columns):
        found[row["n"] - 1] = row
    return found


def _reader(pool: asyncpg.Pool, sql: str) -> Batcher[tuple[Any, Any, str | None], asyncpg.Record | None]:
    # A read may run twice: a failed batch is retried item by item, so a bad item fails alone.
    return for_owner(pool, sql, lambda: Batcher(functools.partial(_read, pool, sql), retry_singly=True))


def _document_refusal(doc: asyncpg.Record, status: int | None = None) -> VerificationRefused | None:
    if doc["state"] == "revoked" or status == 1:
        return VerificationRefused("document-revoked", "The issuer revoked this document.")
    if doc["state"] == "suspended" or status == 2:
        return VerificationRefused("document-suspended", "The issuer suspended this document.")
    if doc["valid_until"] is not None and doc["valid_until"] < today_ict():
        return VerificationRefused("document-expired", f"The document expired on {doc['valid_until']}.")
    return None


async def _finish(
    db: asyncpg.Pool,
    principal: Principal,
    doc: asyncpg.Record,
    doc_type: DocumentType,
    *,
    channel: str,
    fields: dict[str, Any],
    level: int | None,
    credential_status: int | None = None,
) -> VerificationOut:
    refusal = _document_refusal(doc, credential_status)
    view = View(
        document_id=str(doc["id"]),
        account_id=str(doc["holder_account_id"]) if doc["holder_account_id"] else None,
        doc_type=doc["doc_type"],
        verifier_org_id=principal.org_id,
        verifier=principal.key,
        verifier_name=doc["verifier_name"],
        channel=channel,
        fields=() if refusal else tuple(fields),
        outcome=refusal.slug if refusal is not None else "valid",
    )
    await writer_for(db).record(view)
    if refusal is not None:
        raise refusal
    return VerificationOut(
        kind="online" if channel == "online" else "offline",
        status="valid",
        document_type=doc_type.code,
        title=doc_type.title.as_dict(),
        issuer={"id": doc["issuer_org_id"], "name": doc["issuer_name"]},
        valid_from=doc["valid_from"],
        valid_until=doc["valid_until"],
        holder_level=level,
        fields=fields,
        labels={name: doc_type.label(name).as_dict() for name in fields},
        checked_at=dt.datetime.now(dt.UTC),
    )


async def _verify_online(
    db: asyncpg.Pool, redis: aioredis.Redis, principal: Principal, payload: str, limit: int
) -> VerificationOut:
    code = payload.rsplit("/v/", 1)[-1] if "/v/" in payload else payload
    if not _CODE.match(code):
        raise VerificationRefused("malformed-payload", "This is neither a presentation code nor a wallet QR payload.")
    # Not retried item by item: a burn that reached Redis must not be run again.
    burner = for_owner(redis, "verification-burns", lambda: Batcher(functools.partial(_burn_many, redis)))
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
    doc = await _reader(db, _READ_ONLINE).submit((record["doc"], record["acct"], principal.org_id))
    if doc is None:
        raise VerificationRefused("code-unknown", "The document of this code no longer exists.")
    doc_type = get_type(doc["doc_type"])
    assert doc_type is not None
    fields = doc_type.reveal(doc["claims"], json.loads(record["fields"]), today_ict())
    return await _finish(db, principal, doc, doc_type, channel="online", fields=fields, level=doc["level"])


async def _verify_offline(db: asyncpg.Pool, principal: Principal, payload: str) -> VerificationOut:
    envelope = open_offline(payload)
    issuer = await lookup_issuer_key_prefix(db, kid_prefix(envelope))
    claims = check_offline(envelope, issuer, now=int(time.time()))
    row = await _reader(db, _READ_OFFLINE).submit((claims.status_list_id, claims.status_idx, principal.org_id))
    if row is None or row["issuer_org_id"] != claims.org_id or row["doc_type"] != claims.doc_type.code:
        raise VerificationRefused("tampered", "The payload points at no credential of this issuer.")
    return await _finish(
        db,
        principal,
        row,
        claims.doc_type,
        channel="offline",
        fields=claims.fields,
        level=claims.level,
        credential_status=row["credential_status"],
    )


@post(
    "/verifications",
    guards=[verifier],
    tags=["verification"],
    summary="Verify what a holder showed: an online code (URL) or an offline QR payload",
    status_code=HTTP_200_OK,
)
async def verify(request: Request[Any, Any, Any], data: JSONBody[VerifyRequest]) -> VerificationOut:
    # The pool, Redis and settings are read from the app's state rather than injected: on
    # this, the hottest route, even the chained injection (wallet_api/state.py) costs a
    # signature check per dependency, more than this route's share of its Redis call.
    state = request.app.state
    db, redis, settings = state.pool, state.redis, state.settings
    principal = principal_of(request)
    limit = settings.documents_verify_rate_per_minute
    payload = data.payload.strip()
    try:
        if payload.startswith(PREFIX):
            await _rate_limit(redis, principal, limit)
            return await _verify_offline(db, principal, payload)
        return await _verify_online(db, redis, principal, payload, limit)
    except CredentialError as exc:
        raise VerificationRefused(exc.slug, exc.detail) from None


ROUTES = [verify]
