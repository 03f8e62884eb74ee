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
import json
import re
import time
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from litestar import Request, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

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
from wallet_api.outbox import consumers_for
from wallet_api.problems import Problem, TooManyRequests
from wallet_api.state import AppSettings, Db, RedisClient

__all__ = ["ROUTES", "VerificationRefused"]

# KEYS: live record, issued marker, used marker. ARGV: caller's organisation, used-marker ttl.
_BURN = """
local record = redis.call('HGETALL', KEYS[1])
if #record == 0 then
  if redis.call('EXISTS', KEYS[3]) == 1 then return {'used'} end
  if redis.call('EXISTS', KEYS[2]) == 1 then return {'expired'} end
  return {'unknown'}
end
local aud = redis.call('HGET', KEYS[1], 'aud')
if aud and aud ~= '' and aud ~= ARGV[1] then return {'wrong-verifier'} end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[3], '1', 'EX', tonumber(ARGV[2]))
table.insert(record, 1, 'ok')
return record
"""

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


async def _rate_limit(redis: aioredis.Redis, principal: Principal, limit: int) -> None:
    window = int(time.time()) // 60
    key = f"doc:verify-rate:{principal.key}:{window}"
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, 61)
        count, _ = await pipe.execute()
    if int(count) > limit:
        raise TooManyRequests(
            "Too many verifications from this verifier; slow down.", retry_after=60 - int(time.time()) % 60
        )


_LOG_VIEW = """
WITH names AS (
    SELECT (SELECT id FROM accounts WHERE person_id = $8) AS account_id,
           (SELECT name FROM organisations WHERE id = $2) AS verifier,
           (SELECT name FROM organisations WHERE id = $7) AS issuer),
logged AS (
    INSERT INTO document_views (document_id, account_id, verifier_org_id, verifier, channel, fields, outcome)
    SELECT $1, account_id, $2, $3, $4, $5, $6 FROM names),
published AS (
    INSERT INTO outbox (topic, consumer, key, payload)
    SELECT 'document.viewed', consumer, $1::text,
           jsonb_build_object('account_id', names.account_id, 'document_id', $1::text, 'doc_type', $9::text,
                              'verifier_org_id', $2::text, 'verifier_name', names.verifier, 'fields', $5::text[],
                              'channel', $4::text, 'outcome', $6::text)
    FROM names, unnest($10::text[]) AS consumer)
SELECT * FROM names
"""


async def _log_view(
    db: asyncpg.Pool,
    doc: asyncpg.Record,
    principal: Principal,
    channel: str,
    fields: list[str],
    outcome: str,
) -> asyncpg.Record:
    """Write the access-log row and the ``document.viewed`` event; returns the names involved.

    A single statement (atomic on its own) finds the holder's account and both
    organisations' names, inserts the log row and the outbox rows: the write that every
    verification makes costs one round trip. The outbox rows are the ones
    :func:`wallet_api.outbox.publish` would append (one per subscribed consumer).
    """
    row = await db.fetchrow(
        _LOG_VIEW,
        doc["id"],
        principal.org_id,
        principal.key,
        channel,
        fields,
        outcome,
        doc["issuer_org_id"],
        doc["holder_id"],
        doc["doc_type"],
        consumers_for("document.viewed"),
    )
    assert row is not None
    return row


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
    outcome = refusal.slug if refusal is not None else "valid"
    names = await _log_view(db, doc, principal, channel, [] if refusal else list(fields), outcome)
    if refusal is not None:
        raise refusal
    return VerificationOut(
        kind="online" if channel == "online" else "offline",
        status="valid",
        document_type=doc_type.code,
        title=doc_type.title.as_dict(),
        issuer={"id": doc["issuer_org_id"], "name": names["issuer"]},
        valid_from=doc["valid_from"],
        valid_until=doc["valid_until"],
        holder_level=level,
        fields=fields,
        labels={name: doc_type.label(name).as_dict() for name in fields},
        checked_at=dt.datetime.now(dt.UTC),
    )


async def _verify_online(
    db: asyncpg.Pool, redis: aioredis.Redis, principal: Principal, payload: str
) -> VerificationOut:
    code = payload.rsplit("/v/", 1)[-1] if "/v/" in payload else payload
    if not _CODE.match(code):
        raise VerificationRefused("malformed-payload", "This is neither a presentation code nor a wallet QR payload.")
    reply = await redis.eval(_BURN, 3, *code_keys(code), principal.org_id or "", USED_MARKER_SECONDS)
    verdict = reply[0].decode() if isinstance(reply[0], bytes) else reply[0]
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
    doc = await db.fetchrow(
        """SELECT d.*, a.level FROM documents d LEFT JOIN accounts a ON a.id = $2::uuid
           WHERE d.id = $1::uuid""",
        record["doc"],
        record["acct"],
    )
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
    row = await db.fetchrow(
        """SELECT d.*, c.status AS credential_status FROM credentials c JOIN documents d ON d.id = c.document_id
           WHERE c.status_list_id = $1 AND c.status_idx = $2""",
        claims.status_list_id,
        claims.status_idx,
    )
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
async def verify(
    request: Request[Any, Any, Any], db: Db, redis: RedisClient, settings: AppSettings, data: JSONBody[VerifyRequest]
) -> VerificationOut:
    principal = principal_of(request)
    await _rate_limit(redis, principal, settings.documents_verify_rate_per_minute)
    payload = data.payload.strip()
    try:
        if payload.startswith(PREFIX):
            return await _verify_offline(db, principal, payload)
        return await _verify_online(db, redis, principal, payload)
    except CredentialError as exc:
        raise VerificationRefused(exc.slug, exc.detail) from None


ROUTES = [verify]
