"""Showing a document: the holder picks fields, the device signs the request, the server answers
with a one-time code (online) or a signed offline payload, each as a URL or text and a QR image.

The request is a compact JWS signed by the device key bound to the account
(``typ: presentation-request+jwt``) over ``{document_id, fields, mode, aud, iat, jti}`` and,
optionally, ``verifier_org_id`` to make an online code usable by that verifier only. The
``jti`` is remembered in Redis for a few minutes, so a captured request cannot be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis
from litestar import MediaType, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from documents.credentials import citizen_document, ensure_credential
from documents.issuer_keys import issuer_signing_key
from documents.offline import encode_offline
from documents.qr import render_qr
from documents.schemas import OfflinePresentationOut, OnlinePresentationOut, PresentationRequest
from documents.service import today_ict
from documents.types import DocumentInvalid, DocumentType, get_type
from wallet_api.kernel import (
    NOT_REPLAYED,
    PUBLIC,
    AppSettings,
    Caller,
    Conflict,
    Db,
    JoseError,
    KeyProviderDep,
    LeasedWindowLimiter,
    Principal,
    Problem,
    RedisClient,
    Settings,
    ValidationFailed,
    citizen,
    decode_compact,
    ec_public_key,
    enforce,
    es256_verify,
)

__all__ = ["ROUTES", "burn_open_codes", "code_keys", "store_code"]

_PROOF_TYP = "presentation-request+jwt"
_PROOF_MAX_AGE = 120
#: Codes and payloads one device may make per minute (a person shows a document, not a stream).
_PRESENTATIONS_PER_MINUTE = 30
# Per device and clock minute, counted one by one (a block of 1: the limit is small).
_PRESENTATIONS = LeasedWindowLimiter("doc:present-rate", _PRESENTATIONS_PER_MINUTE)
_TOO_MANY_CODES = "Too many codes from this device; wait a minute."
#: How long a burnt code is remembered, so that a replay is told apart from a wrong code.
USED_MARKER_SECONDS = 3600


def code_keys(code: str) -> tuple[str, str, str]:
    """Redis keys of a code: live record, "was issued" marker, "was used" marker.

    Only a digest of the code is stored: a Redis dump does not hand out usable codes. The
    hash tag keeps the three keys in one cluster slot for the burn script.
    """
    digest = hashlib.sha256(code.encode()).hexdigest()
    return f"doc:code:{{{digest}}}", f"doc:code-issued:{{{digest}}}", f"doc:code-used:{{{digest}}}"


async def store_code(
    redis: aioredis.Redis,
    *,
    document_id: UUID,
    fields: list[str],
    account_id: str,
    device_id: str | None,
    verifier_org_id: str | None,
    ttl: int,
) -> str:
    """Make a one-time code (192 random bits) for a presentation and keep it in Redis for ``ttl`` seconds."""
    code = secrets.token_urlsafe(24)
    live, issued, _ = code_keys(code)
    record: dict[Any, Any] = {
        "doc": str(document_id),
        "fields": json.dumps(fields),
        "acct": account_id,
        "dev": device_id or "",
        "aud": verifier_org_id or "",
    }
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(live, mapping=record)
        pipe.expire(live, ttl)
        pipe.set(issued, b"1", ex=ttl + USED_MARKER_SECONDS)
        await pipe.execute()
    # The account's open codes, by live key, so that they can all be burnt at once (an
    # identity given back to its owner). Another slot than the code's keys: not in the MULTI.
    opened = _open_codes_key(account_id)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.sadd(opened, live)
        pipe.expire(opened, ttl)
        await pipe.execute()
    return code


def _open_codes_key(account_id: str) -> str:
    return f"doc:open-codes:{{{account_id}}}"


async def burn_open_codes(redis: aioredis.Redis, account_id: str) -> int:
    """Burn every online code the account made that no verifier has used yet; how many.

    A verifier then hears ``code-expired``, as for any code past its time.
    """
    opened = _open_codes_key(account_id)
    live_keys = [k.decode() if isinstance(k, bytes) else str(k) for k in await redis.smembers(opened)]
    burnt = 0
    for live in live_keys:
        burnt += int(await redis.delete(live))
    await redis.delete(opened)
    return burnt


@dataclass(frozen=True, slots=True)
class ProvenRequest:
    fields: list[str]
    verifier_org_id: str | None


def _proof_problem(detail: str) -> Problem:
    return Problem(detail, slug="device-proof", title="The device's signature on the request is not valid", status=401)


async def verify_device_proof(
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    settings: Settings,
    principal: Principal,
    document_id: UUID,
    doc_type: DocumentType,
    proof: str,
    mode: str,
) -> ProvenRequest:
    try:
        header, payload, signing_input, signature = decode_compact(proof)
    except JoseError as exc:
        raise _proof_problem(f"The request signature cannot be read ({exc}).") from None
    if header.get("typ") != _PROOF_TYP:
        raise _proof_problem(f"The request must be a {_PROOF_TYP}.")
    jwk = await db.fetchval(
        "SELECT public_jwk FROM devices WHERE id = $1::uuid AND account_id = $2::uuid AND revoked_at IS NULL",
        principal.device_id,
        principal.subject,
    )
    if jwk is None or not es256_verify(ec_public_key(jwk), signature, signing_input, device=True):
        raise _proof_problem(
            "The request is not signed by this device's key (ES256: raw r||s of 64 bytes or DER, base64url)."
        )
    aud = f"{settings.public_base_url.rstrip('/')}/v1/me/documents/{document_id}/presentations"
    iat, jti, fields = payload.get("iat"), payload.get("jti"), payload.get("fields")
    if payload.get("document_id") != str(document_id) or payload.get("aud") != aud or payload.get("mode") != mode:
        raise _proof_problem("The signed request is for another document, mode or server.")
    if not isinstance(iat, int) or abs(time.time() - iat) > _PROOF_MAX_AGE:
        raise _proof_problem("The signed request is stale; check the device clock.")
    if not isinstance(jti, str) or not 16 <= len(jti) <= 128:
        raise _proof_problem("The signed request needs a unique jti.")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise ValidationFailed("Choose at least one field to show.", errors=[{"key": "fields", "message": "empty"}])
    verifier_org_id = payload.get("verifier_org_id")
    if verifier_org_id is not None and not isinstance(verifier_org_id, str):
        raise _proof_problem("verifier_org_id must be an organisation id.")
    if verifier_org_id is not None and not await db.fetchval(
        "SELECT true FROM organisations WHERE id = $1 AND disabled_at IS NULL", verifier_org_id
    ):
        # A mistyped id made a code no verifier could ever use, and the citizen was not told.
        # Any organisation may verify (a client with documents:verify, a verifier_agent officer).
        raise ValidationFailed(
            "No organisation has this id; check it, or leave it out to let any verifier scan the code.",
            slug="unknown-verifier",
            title="Unknown verifier",
            errors=[{"key": "verifier_org_id", "message": "no such verifier"}],
        )
    try:
        chosen = doc_type.expand(fields)
    except DocumentInvalid as exc:
        raise ValidationFailed(
            "Some chosen fields are not in this document.",
            errors=[{"key": f"fields.{e.field}", "message": e.message} for e in exc.errors],
        ) from None
    await enforce(
        _PRESENTATIONS, redis, str(principal.device_id), detail="Too many codes from this device; wait a minute."
    )
    fresh = await redis.set(f"doc:proof:{principal.device_id}:{jti}", b"1", nx=True, ex=2 * _PROOF_MAX_AGE + 60)
    if not fresh:
        raise Conflict("This signed request was already used.", slug="device-proof-replayed")
    return ProvenRequest(fields=chosen, verifier_org_id=verifier_org_id)


async def _shown_document(db: asyncpg.Pool, principal: Principal, document_id: UUID) -> tuple[Any, DocumentType]:
    doc = await citizen_document(db, principal, document_id)
    # One raise per state (documents.state: active, suspended, revoked), so that each slug is
    # written out where it is raised (the registry test and the OpenAPI document read it).
    if doc["state"] == "suspended":
        raise Problem(
            "A suspended document cannot be shown.",
            slug="document-suspended",
            status=409,
            title="The document cannot be shown",
        )
    if doc["state"] != "active":
        raise Problem(
            f"A {doc['state']} document cannot be shown.",
            slug="document-revoked",
            status=409,
            title="The document cannot be shown",
        )
    doc_type = get_type(doc["doc_type"])
    assert doc_type is not None
    return doc, doc_type


@post(
    "/me/documents/{document_id:uuid}/presentations",
    guards=[citizen],
    opt=NOT_REPLAYED,
    tags=["wallet"],
    summary="Show chosen fields online: a one-time code (URL and QR) for a verifier to scan",
    status_code=HTTP_201_CREATED,
)
async def online_presentation(
    principal: Caller,
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    document_id: FromPath[UUID],
    data: JSONBody[PresentationRequest],
) -> OnlinePresentationOut:
    _, doc_type = await _shown_document(db, principal, document_id)
    proven = await verify_device_proof(db, redis, settings, principal, document_id, doc_type, data.proof, "online")
    ttl = settings.documents.code_ttl_seconds
    code = await store_code(
        redis,
        document_id=document_id,
        fields=proven.fields,
        account_id=principal.subject,
        device_id=principal.device_id,
        verifier_org_id=proven.verifier_org_id,
        ttl=ttl,
    )
    url = f"{settings.public_base_url.rstrip('/')}/v/{code}"
    images = render_qr(url)
    return OnlinePresentationOut(
        code=code,
        url=url,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl),
        fields=proven.fields,
        qr_png=images.png_base64,
        qr_svg=images.svg,
    )


@post(
    "/me/documents/{document_id:uuid}/offline-presentations",
    guards=[citizen],
    opt=NOT_REPLAYED,
    tags=["wallet"],
    summary="Show chosen fields offline: a signed QR payload a verifier checks without network",
    status_code=HTTP_201_CREATED,
)
async def offline_presentation(
    principal: Caller,
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    key_provider: KeyProviderDep,
    document_id: FromPath[UUID],
    data: JSONBody[PresentationRequest],
) -> OfflinePresentationOut:
    doc, doc_type = await _shown_document(db, principal, document_id)
    proven = await verify_device_proof(db, redis, settings, principal, document_id, doc_type, data.proof, "offline")
    held = await ensure_credential(db, key_provider, settings, principal, document_id)
    now = int(time.time())
    exp = now + settings.documents.offline_ttl_seconds
    if held.expires_at is not None:
        exp = min(exp, int(held.expires_at.timestamp()))
    key = await issuer_signing_key(db, key_provider, doc["issuer_org_id"])
    payload = encode_offline(
        key,
        org_id=doc["issuer_org_id"],
        doc_type=doc_type,
        claims=doc["claims"],
        revealed=doc_type.reveal(doc["claims"], proven.fields, today_ict()),
        status_list_id=held.status_list_id,
        status_idx=held.status_idx,
        level=doc["holder_level"],
        iat=now,
        exp=exp,
    )
    images = render_qr(payload, alphanumeric=True)
    return OfflinePresentationOut(
        payload=payload,
        expires_at=dt.datetime.fromtimestamp(exp, dt.UTC),
        fields=proven.fields,
        qr_version=images.version,
        qr_png=images.png_base64,
        qr_svg=images.svg,
    )


@get(
    "/v/{code:str}",
    opt=PUBLIC,
    tags=["wallet"],
    summary="Where a phone camera lands when it scans an online code: how to verify it",
    media_type=MediaType.HTML,
)
async def code_landing(code: FromPath[str]) -> str:
    # Says nothing about the code itself (not whether it exists): it is verified only by
    # an authorised verifier, through POST /verifications.
    return _LANDING


_LANDING = """<!doctype html><html lang="vi"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Ví công dân</title>
<h1>Mã xác thực giấy tờ</h1>
<p>Mã này chỉ được kiểm tra bằng ứng dụng của đơn vị xác thực đã được cấp quyền, trong vòng 3 phút.</p>
<h2 lang="en">Document verification code</h2>
<p lang="en">Only an authorised verifier's app can check this code, within 3 minutes of its creation.</p>
</html>"""


ROUTES = [online_presentation, offline_presentation, code_landing]
