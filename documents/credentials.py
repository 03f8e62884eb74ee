"""Minting the holder's SD-JWT VC for the device that asks, once per document version.

A credential is bound (``cnf``) to one device key. When the document changes version or
the citizen moves to a new device, the next request mints a fresh one; credentials bound to
devices that were unbound are revoked at that moment.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from documents.issuer_keys import issuer_signing_key
from documents.sdjwt import mint_sd_jwt
from documents.service import ICT, today_ict
from documents.statuslist import INVALID, SUSPENDED, VALID, allocate_index, status_list_uri
from documents.types import DERIVED_AGE_OVER_18, get_type
from wallet_api.kernel import (
    DatabaseKeyProvider,
    Forbidden,
    NotFound,
    Principal,
    Problem,
    Settings,
    SigningKey,
    level_too_low,
)

__all__ = [
    "DOCUMENTS_LEVEL",
    "HeldCredential",
    "citizen_document",
    "credential_claims",
    "credential_validity",
    "ensure_credential",
    "issuer_url",
    "mint_document_credential",
]

#: Government documents are delivered, shown and presented only to accounts of this level
#: (chip + face in the app, or in person); a level-1 account only sees that they exist.
DOCUMENTS_LEVEL = 2


def issuer_url(base_url: str, org_id: str) -> str:
    return f"{base_url.rstrip('/')}/issuers/{org_id}"


@dataclass(frozen=True, slots=True)
class HeldCredential:
    id: UUID
    document_id: UUID
    version: int
    sd_jwt: str
    status_list_id: UUID
    status_idx: int
    kid: str
    expires_at: dt.datetime | None


async def citizen_document(
    conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, document_id: UUID, *, for_update: bool = False
) -> asyncpg.Record:
    """A document held by the calling citizen (with the account's ``holder_level``); anyone
    else's is simply not found, and an account below :data:`DOCUMENTS_LEVEL` is refused.

    The level is read from the account, not the access token, so a level change applies at
    once, in either direction.
    """
    row = await conn.fetchrow(
        """SELECT d.*, a.level AS holder_level FROM documents d JOIN accounts a ON a.person_id = d.holder_id
           WHERE d.id = $1 AND a.id = $2::uuid"""
        + (" FOR UPDATE OF d" if for_update else ""),
        document_id,
        principal.subject,
    )
    if row is None:
        raise NotFound("You hold no such document.")
    if row["holder_level"] < DOCUMENTS_LEVEL:
        raise level_too_low(
            DOCUMENTS_LEVEL,
            "Your documents open at identification level 2: read your chip ID card and take a selfie "
            "in the app, or verify in person at a police office.",
        )
    return row


def _end_of(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), ICT).astimezone(dt.UTC)


async def ensure_credential(
    pool: asyncpg.Pool,
    keys: DatabaseKeyProvider,
    settings: Settings,
    principal: Principal,
    document_id: UUID,
) -> HeldCredential:
    if principal.device_id is None:
        raise Forbidden("Credentials are bound to a device; sign in from the app.", slug="device-required")
    # The signing key is fetched before the transaction: it may need a connection of its own
    # (first key of an issuer), and a transaction holding one while waiting for another can
    # starve the pool under load.
    issuer_org_id = (await citizen_document(pool, principal, document_id))["issuer_org_id"]
    key = await issuer_signing_key(pool, keys, issuer_org_id)
    async with pool.acquire() as conn, conn.transaction():
        doc = await citizen_document(conn, principal, document_id, for_update=True)
        if doc["state"] == "revoked":
            raise Problem("This document was revoked.", slug="document-revoked", title="Document revoked", status=410)
        device = await conn.fetchrow(
            "SELECT public_jwk FROM devices WHERE id = $1::uuid AND account_id = $2::uuid AND revoked_at IS NULL",
            principal.device_id,
            principal.subject,
        )
        if device is None:
            raise Forbidden("This device is no longer bound to your account.", slug="device-not-bound")
        existing = await conn.fetchrow(
            """SELECT * FROM credentials
               WHERE document_id = $1 AND version = $2 AND device_id = $3::uuid AND status <> 1""",
            document_id,
            doc["version"],
            principal.device_id,
        )
        if existing is not None:
            return _held(existing)
        await _revoke_unbound(conn, document_id)
        list_id, idx = await allocate_index(conn, doc["issuer_org_id"])
        sd_jwt, expires_at = mint_document_credential(
            key, settings, doc, device["public_jwk"], list_id, idx, iat=int(time.time())
        )
        row = await conn.fetchrow(
            """INSERT INTO credentials (document_id, version, device_id, kid, status_list_id, status_idx, status,
                                        sd_jwt, expires_at)
               VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8, $9) RETURNING *""",
            document_id,
            doc["version"],
            principal.device_id,
            key.kid,
            list_id,
            idx,
            SUSPENDED if doc["state"] == "suspended" else VALID,
            sd_jwt,
            expires_at,
        )
    return _held(row)


def credential_claims(doc: asyncpg.Record) -> dict[str, Any]:
    """What a credential of the document says: its claims, and the derived ones that hold."""
    doc_type = get_type(doc["doc_type"])
    assert doc_type is not None
    claims: dict[str, Any] = dict(doc["claims"])
    if DERIVED_AGE_OVER_18 in doc_type.derived and doc_type.derive(DERIVED_AGE_OVER_18, claims, today_ict()):
        # Only ever true once true, so a credential never goes stale on it.
        claims[DERIVED_AGE_OVER_18] = True
    return claims


def credential_validity(doc: asyncpg.Record) -> tuple[dt.datetime, dt.datetime | None]:
    """(start of the document's first valid day, end of its last; None: it never expires), in ICT."""
    valid_from = _end_of(doc["valid_from"] - dt.timedelta(days=1))
    assert valid_from is not None
    return valid_from, _end_of(doc["valid_until"])


def mint_document_credential(
    key: SigningKey,
    settings: Settings,
    doc: asyncpg.Record,
    holder_jwk: Mapping[str, Any],
    list_id: UUID,
    idx: int,
    *,
    iat: int,
) -> tuple[str, dt.datetime | None]:
    """The SD-JWT VC of one version of a document for one holder key, with fresh salts and
    decoys; and when it expires (the end of the document's last valid day)."""
    doc_type = get_type(doc["doc_type"])
    assert doc_type is not None
    claims = credential_claims(doc)
    valid_from, expires_at = credential_validity(doc)
    sd_jwt = mint_sd_jwt(
        key,
        iss=issuer_url(settings.public_base_url, doc["issuer_org_id"]),
        vct=doc_type.vct,
        claims=claims,
        holder_jwk=holder_jwk,
        status_uri=status_list_uri(settings.public_base_url, list_id),
        status_idx=idx,
        iat=iat,
        nbf=int(valid_from.timestamp()),
        exp=int(expires_at.timestamp()) if expires_at is not None else None,
    )
    return sd_jwt, expires_at


async def _revoke_unbound(conn: asyncpg.Connection, document_id: UUID) -> None:
    await conn.execute(
        """WITH changed AS (
               UPDATE credentials c SET status = $2
               FROM devices v
               WHERE c.document_id = $1 AND c.device_id = v.id AND v.revoked_at IS NOT NULL AND c.status <> $2
               RETURNING c.status_list_id)
           UPDATE status_lists SET version = version + 1 WHERE id IN (SELECT status_list_id FROM changed)""",
        document_id,
        INVALID,
    )


def _held(row: asyncpg.Record) -> HeldCredential:
    return HeldCredential(
        id=row["id"],
        document_id=row["document_id"],
        version=row["version"],
        sd_jwt=row["sd_jwt"],
        status_list_id=row["status_list_id"],
        status_idx=row["status_idx"],
        kid=row["kid"],
        expires_at=row["expires_at"],
    )
