"""The ``vci_authorizations`` rows (migrations/0920_vci_authorizations.sql): each step of the
flow is one conditional statement, so a step taken twice, late, or by the wrong party
changes nothing.

Secrets are handed out once and kept as SHA-256 digests: the ``request_uri``, the browser
secret (the page's cookie), the approval handle and the code. The handle is derived from
the browser secret, so the page can show it again without it being stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from openid4vci.attestation import AttestedClient
from openid4vci.authorization.requests import PushedRequest
from wallet_api.kernel import b64url_encode

__all__ = [
    "REQUEST_URI_PREFIX",
    "Authorization",
    "claim_for",
    "collect_code",
    "decide",
    "digest",
    "handle_of",
    "lock_by_code",
    "new_secret",
    "open_request",
    "purge_expired",
    "push",
    "read_by_browser",
    "redeem",
]

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
#: Rows are kept a day after they were pushed (the longest flow lasts under an hour).
_KEEP = "1 day"
_PURGE_CHUNK = 5000


def new_secret() -> str:
    """256 random bits, base64url."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def handle_of(browser_secret: str) -> str:
    """The approval handle shown to the citizen (QR, app link): 128 bits derived from the page's secret."""
    return b64url_encode(hashlib.sha256(b"oid4vci-approval-handle\x00" + browser_secret.encode()).digest()[:16])


@dataclass(frozen=True, slots=True)
class Authorization:
    """One row, as the page, the app and the token endpoint read it."""

    id: UUID
    client_id: str
    attested_by: str | None
    wallet_name: str | None
    redirect_uri: str
    state: str | None
    code_challenge: str
    dpop_jkt: str | None
    issuer_state: str | None
    requested: list[dict[str, str]]
    approval_expires_at: dt.datetime | None
    account_id: UUID | None
    decision: str | None
    document_ids: list[UUID]
    code_delivered: bool
    redeemed: bool
    code_expired: bool
    approval_open: bool

    @classmethod
    def of(cls, row: asyncpg.Record) -> Authorization:
        return cls(
            id=row["id"],
            client_id=row["client_id"],
            attested_by=row["attested_by"],
            wallet_name=row["wallet_name"],
            redirect_uri=row["redirect_uri"],
            state=row["state"],
            code_challenge=row["code_challenge"],
            dpop_jkt=row["dpop_jkt"],
            issuer_state=row["issuer_state"],
            requested=list(row["requested"]),
            approval_expires_at=row["approval_expires_at"],
            account_id=row["account_id"],
            decision=row["decision"],
            document_ids=list(row["document_ids"] or ()),
            code_delivered=row["code_hash"] is not None,
            redeemed=row["redeemed_at"] is not None,
            code_expired=bool(row["code_expired"]),
            approval_open=bool(row["approval_open"]),
        )


_COLUMNS = """id, client_id, attested_by, wallet_name, redirect_uri, state, code_challenge, dpop_jkt,
    issuer_state, requested, approval_expires_at, account_id, decision, document_ids,
    code_hash, redeemed_at, coalesce(code_expires_at <= now(), false) AS code_expired,
    coalesce(approval_expires_at > now(), false) AS approval_open"""


async def push(
    db: asyncpg.Pool,
    request: PushedRequest,
    *,
    attested: AttestedClient | None,
    dpop_jkt: str | None,
    ttl: int,
) -> str:
    """Store a pushed request; its ``request_uri`` (the only copy of its secret)."""
    secret = new_secret()
    requested = [
        {"credential_configuration_id": r.credential_configuration_id, "doc_type": r.doc_type}
        for r in request.requested
    ]
    await db.execute(
        """INSERT INTO vci_authorizations (request_uri_hash, client_id, attested_by, wallet_name, redirect_uri, state,
               code_challenge, dpop_jkt, issuer_state, requested, request_expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, now() + make_interval(secs => $11))""",
        digest(secret),
        request.client_id,
        attested.attester if attested else None,
        attested.wallet_name if attested else None,
        request.redirect_uri,
        request.state,
        request.code_challenge,
        dpop_jkt,
        request.issuer_state,
        requested,
        ttl,
    )
    return REQUEST_URI_PREFIX + secret


async def open_request(
    db: asyncpg.Pool, request_uri: str, client_id: str, *, approval_ttl: int
) -> tuple[Authorization, str] | None:
    """Use a request_uri (once, before it expires, by its own client): the row and the page's browser secret."""
    if not request_uri.startswith(REQUEST_URI_PREFIX):
        return None
    browser = new_secret()
    row = await db.fetchrow(
        f"""UPDATE vci_authorizations SET opened_at = now(), browser_hash = $3, handle_hash = $4,
                   approval_expires_at = now() + make_interval(secs => $5)
            WHERE request_uri_hash = $1 AND client_id = $2 AND opened_at IS NULL AND request_expires_at > now()
            RETURNING {_COLUMNS}""",
        digest(request_uri.removeprefix(REQUEST_URI_PREFIX)),
        client_id,
        digest(browser),
        digest(handle_of(browser)),
        approval_ttl,
    )
    return (Authorization.of(row), browser) if row else None


async def read_by_browser(db: asyncpg.Pool, browser_secret: str) -> Authorization | None:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM vci_authorizations WHERE browser_hash = $1", digest(browser_secret)
    )
    return Authorization.of(row) if row else None


async def claim_for(db: asyncpg.Pool, handle: str, account_id: str) -> Authorization | None:
    """The undecided, unexpired authorization behind ``handle``, bound to the first account that asks.

    Any other account gets None, as for a handle that does not exist.
    """
    row = await db.fetchrow(
        f"""UPDATE vci_authorizations SET account_id = $2::uuid
            WHERE handle_hash = $1 AND decision IS NULL AND approval_expires_at > now()
              AND (account_id IS NULL OR account_id = $2::uuid)
            RETURNING {_COLUMNS}""",
        digest(handle),
        account_id,
    )
    return Authorization.of(row) if row else None


async def decide(
    conn: asyncpg.Connection, authorization_id: UUID, account_id: str, document_ids: list[UUID] | None
) -> bool:
    """Approve with ``document_ids`` (or deny, None): once, by the account holding it, before it expires."""
    status = await conn.execute(
        """UPDATE vci_authorizations
           SET decision = CASE WHEN $3::uuid[] IS NULL THEN 'denied' ELSE 'approved' END, decided_at = now(),
               document_ids = $3
           WHERE id = $1 AND account_id = $2::uuid AND decision IS NULL AND approval_expires_at > now()""",
        authorization_id,
        account_id,
        document_ids,
    )
    return bool(status.endswith(" 1"))


async def collect_code(db: asyncpg.Pool, browser_secret: str, *, ttl: int) -> tuple[str, Authorization] | None:
    """The authorization code of an approved authorization, made once for the browser that holds the page."""
    code = new_secret()
    row = await db.fetchrow(
        f"""UPDATE vci_authorizations SET code_hash = $2, code_expires_at = now() + make_interval(secs => $3)
            WHERE browser_hash = $1 AND decision = 'approved' AND code_hash IS NULL
            RETURNING {_COLUMNS}""",
        digest(browser_secret),
        digest(code),
        ttl,
    )
    return (code, Authorization.of(row)) if row else None


async def purge_expired(db: asyncpg.Pool) -> int:
    status = await db.execute(
        f"""DELETE FROM vci_authorizations WHERE id IN (
                SELECT id FROM vci_authorizations WHERE pushed_at < now() - interval '{_KEEP}' LIMIT {_PURGE_CHUNK})"""
    )
    return int(status.split()[-1])


async def lock_by_code(conn: asyncpg.Connection, code: str) -> Authorization | None:
    """The authorization a code was made for, locked until the caller's transaction ends."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM vci_authorizations WHERE code_hash = $1 FOR UPDATE", digest(code)
    )
    return Authorization.of(row) if row else None


async def redeem(conn: asyncpg.Connection, authorization_id: UUID) -> None:
    await conn.execute("UPDATE vci_authorizations SET redeemed_at = now() WHERE id = $1", authorization_id)
