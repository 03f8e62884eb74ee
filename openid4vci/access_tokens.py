"""Access tokens of the credential issuer: short ES256 JWTs (RFC 9068 ``at+jwt``) bound by DPoP.

They are signed with a key of their own purpose, never the app's access-token key, so an
OID4VCI token is no session of the app (the API's bearer middleware refuses it) and an app
token is no OID4VCI token. Claims: ``iss`` and ``aud`` the credential issuer, ``sub`` the
holder's account, ``cnf.jkt`` the DPoP key, ``credential_identifiers`` the documents it
may fetch, ``exp`` minutes ahead. Nothing is stored: the token is its own record.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.asymmetric import ec

from openid4vci.errors import invalid_token
from wallet_api.kernel import (
    DatabaseKeyProvider,
    JoseError,
    KeyRequirement,
    decode_compact,
    ec_public_key,
    es256_verify,
    sign_compact,
)

__all__ = ["ACCESS_TOKEN_KEYS", "CredentialGrant", "issue_access_token", "read_access_token"]

ACCESS_TOKEN_PURPOSE = "oid4vci-access-token"
ACCESS_TOKEN_KEYS = KeyRequirement(ACCESS_TOKEN_PURPOSE)
_TYP = "at+jwt"
_KID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_MAX_TOKEN = 8192


@dataclass(frozen=True, slots=True)
class CredentialGrant:
    """What a valid access token allows: whose documents, which, for which DPoP key."""

    account_id: UUID
    document_ids: tuple[UUID, ...]
    jkt: str
    expires_at: int
    #: The token's ``jti``, naming it in the count of credentials it has fetched.
    token_id: str


async def issue_access_token(
    keys: DatabaseKeyProvider, *, issuer: str, account_id: UUID, document_ids: list[UUID], jkt: str, ttl: int
) -> str:
    key = await keys.active_key(ACCESS_TOKEN_PURPOSE)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": issuer,
        "sub": str(account_id),
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "cnf": {"jkt": jkt},
        "credential_identifiers": [str(d) for d in document_ids],
    }
    return sign_compact(key, claims, typ=_TYP)


async def _verifying_key(keys: DatabaseKeyProvider, pool: asyncpg.Pool, kid: str) -> ec.EllipticCurvePublicKey | None:
    active = await keys.active_key(ACCESS_TOKEN_PURPOSE)
    if active.kid == kid:
        return active.private_key.public_key()
    # A token signed just before a rotation: its key is still in the table.
    jwk = await pool.fetchval(
        "SELECT public_jwk FROM signing_keys WHERE kid = $1 AND purpose = $2", kid, ACCESS_TOKEN_PURPOSE
    )
    return ec_public_key(jwk) if jwk is not None else None


async def read_access_token(
    keys: DatabaseKeyProvider, pool: asyncpg.Pool, token: str, *, issuer: str
) -> CredentialGrant:
    """The grant of a valid token; 401 ``invalid_token`` for anything else."""
    if len(token) > _MAX_TOKEN:
        raise invalid_token("The access token is too long.")
    try:
        header, claims, signing_input, signature = decode_compact(token, typ=_TYP)
    except JoseError:
        raise invalid_token("The access token cannot be read.") from None
    kid = header.get("kid")
    key = await _verifying_key(keys, pool, kid) if isinstance(kid, str) and _KID.fullmatch(kid) else None
    if key is None or not es256_verify(key, signature, signing_input):
        raise invalid_token("The access token is not ours.")
    exp, cnf, ids = claims.get("exp"), claims.get("cnf"), claims.get("credential_identifiers")
    if claims.get("iss") != issuer or claims.get("aud") != issuer:
        raise invalid_token("The access token is for another issuer.")
    if not isinstance(exp, int) or exp <= time.time():
        raise invalid_token("The access token has expired.")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jkt"), str):
        raise invalid_token("The access token is not bound to a DPoP key.")
    try:
        account_id = UUID(str(claims.get("sub")))
        document_ids = tuple(UUID(str(d)) for d in ids) if isinstance(ids, list) else ()
    except ValueError:
        raise invalid_token("The access token names no holder.") from None
    jti = claims.get("jti")
    if not isinstance(jti, str) or not _KID.fullmatch(jti):
        raise invalid_token("The access token has no id.")
    return CredentialGrant(
        account_id=account_id, document_ids=document_ids, jkt=cnf["jkt"], expires_at=exp, token_id=jti
    )
