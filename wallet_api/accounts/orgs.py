"""Organisations, their officers and their OAuth2 clients: creation and credential rotation.

Used by the ``wallet org`` / ``wallet officer`` commands and by the demo seed. Secrets are
generated here, shown once to the operator, and stored only hashed: officer passwords with
argon2id; client secrets (256 random bits, so a slow hash adds nothing) as SHA-256.
Clients that can hold a key should register a public JWKS instead (``private_key_jwt``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import asyncpg

from wallet_api.accounts.passwords import hash_password
from wallet_api.kernel import record

__all__ = [
    "CLIENT_SCOPES",
    "ORG_KINDS",
    "ROLES",
    "OrgError",
    "create_client",
    "create_officer",
    "hash_client_secret",
    "rotate_client",
    "rotate_officer_password",
    "secret_matches",
    "upsert_org",
]

ORG_KINDS = ("issuer", "welfare", "verifier", "provider", "police", "admin")
ROLES = ("police_officer", "welfare_maker", "welfare_checker", "issuer_operator", "verifier_agent", "admin")
CLIENT_SCOPES = ("documents:issue", "documents:verify", "payments:manage")
_SECRET_PREFIX = "sha256$"


class OrgError(ValueError):
    """A request the operator must correct (unknown role, missing organisation, …)."""


def hash_client_secret(secret: str) -> str:
    return _SECRET_PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(stored: str | None, presented: str) -> bool:
    expected = stored or _SECRET_PREFIX + "0" * 64
    return hmac.compare_digest(expected, hash_client_secret(presented)) and stored is not None


def _check_jwks(jwks: Any) -> dict[str, Any]:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise OrgError('a JWKS is {"keys": [...]} with at least one key')
    for key in jwks["keys"]:
        if not isinstance(key, dict) or not key.get("kid") or "d" in key or key.get("kty") not in ("EC", "RSA"):
            raise OrgError("every key needs a kid, kty EC or RSA, and no private part")
    return {"keys": [dict(k) for k in jwks["keys"]]}


async def upsert_org(
    conn: asyncpg.Connection,
    org_id: str,
    kind: str,
    name: str,
    *,
    document_types: list[str] | None = None,
    provinces: list[str] | None = None,
    actor: str = "operator",
) -> None:
    if kind not in ORG_KINDS:
        raise OrgError(f"kind must be one of {', '.join(ORG_KINDS)}")
    await conn.execute(
        """INSERT INTO organisations (id, kind, name, document_types, provinces) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,
               document_types = EXCLUDED.document_types, provinces = EXCLUDED.provinces""",
        org_id,
        kind,
        name,
        document_types or [],
        provinces or [],
    )
    await record(conn, actor=actor, action="org.upserted", subject=f"org:{org_id}", details={"kind": kind})


async def create_officer(
    conn: asyncpg.Connection,
    org_id: str,
    username: str,
    display_name: str,
    roles: list[str],
    *,
    password: str | None = None,
    actor: str = "operator",
) -> tuple[str, str]:
    """Create an officer; returns (officer id, password). The password is shown once."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise OrgError(f"unknown roles: {', '.join(unknown)}")
    if await conn.fetchval("SELECT 1 FROM organisations WHERE id = $1", org_id) is None:
        raise OrgError(f"no organisation {org_id!r}")
    password = password or secrets.token_urlsafe(18)
    officer_id = await conn.fetchval(
        """INSERT INTO officers (org_id, username, display_name, roles, password_hash, password_changed_at)
           VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (username) DO NOTHING RETURNING id""",
        org_id,
        username,
        display_name,
        sorted(set(roles)),
        await hash_password(password),
    )
    if officer_id is None:
        raise OrgError(f"an officer {username!r} already exists")
    await record(
        conn, actor=actor, action="officer.created", subject=f"officer:{officer_id}", details={"org_id": org_id}
    )
    return str(officer_id), password


async def rotate_officer_password(conn: asyncpg.Connection, username: str, *, actor: str = "operator") -> str:
    password = secrets.token_urlsafe(18)
    officer_id = await conn.fetchval(
        "UPDATE officers SET password_hash = $2, password_changed_at = now() WHERE username = $1 RETURNING id",
        username,
        await hash_password(password),
    )
    if officer_id is None:
        raise OrgError(f"no officer {username!r}")
    await record(conn, actor=actor, action="officer.password_rotated", subject=f"officer:{officer_id}")
    return password


async def create_client(
    conn: asyncpg.Connection,
    client_id: str,
    org_id: str,
    scopes: list[str],
    *,
    jwks: Any = None,
    name: str | None = None,
    actor: str = "operator",
) -> str | None:
    """Register a client; with ``jwks`` it uses private_key_jwt, else a secret is returned (once)."""
    unknown = sorted(set(scopes) - set(CLIENT_SCOPES))
    if unknown:
        raise OrgError(f"unknown scopes: {', '.join(unknown)}")
    if await conn.fetchval("SELECT 1 FROM organisations WHERE id = $1", org_id) is None:
        raise OrgError(f"no organisation {org_id!r}")
    secret = None if jwks is not None else secrets.token_urlsafe(32)
    inserted = await conn.fetchval(
        """INSERT INTO oauth_clients (client_id, org_id, scopes, public_jwks, secret_hash, name)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (client_id) DO NOTHING RETURNING client_id""",
        client_id,
        org_id,
        sorted(set(scopes)),
        _check_jwks(jwks) if jwks is not None else None,
        hash_client_secret(secret) if secret else None,
        name,
    )
    if inserted is None:
        raise OrgError(f"a client {client_id!r} already exists")
    await record(
        conn,
        actor=actor,
        action="client.created",
        subject=f"client:{client_id}",
        details={"org_id": org_id, "auth": "private_key_jwt" if jwks is not None else "client_secret"},
    )
    return secret


async def rotate_client(
    conn: asyncpg.Connection, client_id: str, *, jwks: Any = None, actor: str = "operator"
) -> str | None:
    """Replace the client's keys (``jwks``) or secret; the old credential stops working at once."""
    secret = None if jwks is not None else secrets.token_urlsafe(32)
    done = await conn.fetchval(
        """UPDATE oauth_clients SET public_jwks = $2, secret_hash = $3, rotated_at = now()
           WHERE client_id = $1 RETURNING client_id""",
        client_id,
        _check_jwks(jwks) if jwks is not None else None,
        hash_client_secret(secret) if secret else None,
    )
    if done is None:
        raise OrgError(f"no client {client_id!r}")
    await record(conn, actor=actor, action="client.rotated", subject=f"client:{client_id}")
    return secret
