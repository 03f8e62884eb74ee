"""Organisations and officers signing in.

``POST /oauth2/token`` — OAuth2 client credentials (RFC 6749 §4.4) for organisations'
systems. Client authentication, strongest first:

* ``private_key_jwt`` (RFC 7523 / OIDC): ``client_assertion_type=urn:ietf:params:oauth:
  client-assertion-type:jwt-bearer`` and a ``client_assertion`` JWT signed by a key in the
  client's registered JWKS, with ``iss = sub = client_id``, ``aud`` = this endpoint's URL,
  ``exp`` at most 5 minutes ahead and a ``jti`` that is accepted once (kept in Redis).
* ``client_secret_basic`` or ``client_secret_post`` with a secret stored as SHA-256.

Failures answer ``invalid_client`` (401) without saying which part was wrong, and count
towards a per-client lockout. Errors are problem+json carrying the OAuth2 ``error`` code.

``POST /v1/officers/sign-in`` — officers (police, welfare makers and checkers) with username
and argon2id password, locked out per username after repeated failures.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

import asyncpg
import jwt
from litestar import Request, post
from litestar.params import JSONBody, URLEncodedBody
from litestar.status_codes import HTTP_200_OK

from wallet_api.accounts.common import request_source
from wallet_api.accounts.orgs import secret_matches
from wallet_api.accounts.passwords import verify_password
from wallet_api.accounts.ratelimit import LOCKOUTS, hit
from wallet_api.accounts.schemas import OfficerSignIn, TokenView
from wallet_api.kernel import (
    NOT_REPLAYED,
    PUBLIC,
    AppSettings,
    Db,
    JoseError,
    Principal,
    Problem,
    RedisClient,
    Tokens,
    Unauthorized,
    decode_compact,
)

__all__ = ["ASSERTION_TYPE", "authenticate_officer", "officer_sign_in", "token_endpoint"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Clients may hold RSA or P-384 keys: an assertion's form is checked by the one JOSE module
# (strict base64url and JSON, no ``crit``, an algorithm of this list), its signature and
# claims by PyJWT, which implements these algorithms.
_ASSERTION_ALGORITHMS = ("ES256", "ES384", "PS256", "RS256")
_MAX_ASSERTION_LIFETIME = 300


class OAuthError(Problem):
    """An RFC 6749 §5.2 error of the token endpoint, as a problem with the OAuth ``error`` member."""

    #: What the OpenAPI document lists for the token endpoint (the slug is chosen at run time).
    documented = (
        (400, "oauth-invalid-request", "invalid_request"),
        (401, "oauth-invalid-client", "invalid_client"),
        (400, "oauth-unsupported-grant-type", "unsupported_grant_type"),
        (400, "oauth-invalid-scope", "invalid_scope"),
    )


def _oauth_error(error: str, detail: str, status: int = 400) -> Problem:
    headers = {"WWW-Authenticate": 'Basic realm="citizen-wallet"'} if status == 401 else None
    return OAuthError(
        detail, slug=f"oauth-{error.replace('_', '-')}", title=error, status=status, headers=headers, error=error
    )


def _invalid_client() -> Problem:
    return _oauth_error("invalid_client", "Client authentication failed.", 401)


def _basic_credentials(request: Request[Any, Any, Any]) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


async def _verify_assertion(assertion: str, row: Any, audience: str, redis: Any) -> bool:
    jwks = row["public_jwks"]
    if not jwks:
        return False
    try:
        header = decode_compact(assertion, algorithms=_ASSERTION_ALGORITHMS).header
        key_data = next((k for k in jwks["keys"] if k.get("kid") == header.get("kid")), None)
        if key_data is None:
            return False
        key = jwt.PyJWK(key_data, algorithm=header["alg"])
        claims = jwt.decode(
            assertion,
            key.key,
            algorithms=[header["alg"]],
            audience=audience,
            issuer=row["client_id"],
            options={"require": ["exp", "iss", "sub", "aud", "jti"]},
            leeway=5,
        )
    except (JoseError, jwt.PyJWTError, KeyError, TypeError, ValueError):
        return False
    now = time.time()
    if claims["sub"] != row["client_id"] or claims["exp"] - now > _MAX_ASSERTION_LIFETIME:
        return False
    # A captured assertion must not be replayed: each jti is accepted once while it is valid.
    jti_key = f"jti:{row['client_id']}:{str(claims['jti'])[:200]}"
    return bool(await redis.set(jti_key, 1, nx=True, ex=max(1, int(claims["exp"] - now) + 10)))


@post(
    "/oauth2/token",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["oauth2"],
    summary="OAuth2 client credentials for organisations (private_key_jwt or client secret)",
    status_code=HTTP_200_OK,
)
async def token_endpoint(
    request: Request[Any, Any, Any],
    data: URLEncodedBody[dict[str, str]],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    tokens: Tokens,
) -> dict[str, Any]:
    if data.get("grant_type") != "client_credentials":
        raise _oauth_error("unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    basic = _basic_credentials(request)
    assertion = data.get("client_assertion")
    if assertion is not None:
        if data.get("client_assertion_type") != ASSERTION_TYPE:
            raise _oauth_error("invalid_request", "Unsupported client_assertion_type.")
        try:
            client_id = str(decode_compact(assertion, algorithms=_ASSERTION_ALGORITHMS).payload.get("iss") or "")
        except JoseError as exc:
            raise _invalid_client() from exc
    elif basic is not None:
        client_id = basic[0]
    else:
        client_id = data.get("client_id", "")
    if not client_id or len(client_id) > 100 or not client_id.isprintable():
        raise _invalid_client()
    # Failures count against the caller's source (alone and with this client), never against
    # the client as a whole: its secret or key cannot be guessed, and anyone could lock it.
    source = request_source(request)
    lockout = LOCKOUTS["client"]
    await lockout.check(redis, client_id, source)
    row = await db.fetchrow(
        """SELECT c.client_id, c.org_id, c.scopes, c.public_jwks, c.secret_hash FROM oauth_clients c
           JOIN organisations o ON o.id = c.org_id
           WHERE c.client_id = $1 AND c.disabled_at IS NULL AND o.disabled_at IS NULL""",
        client_id,
    )
    if assertion is not None:
        ok = row is not None and await _verify_assertion(
            assertion, row, settings.public_base_url.rstrip("/") + "/oauth2/token", redis
        )
    else:
        secret = basic[1] if basic is not None else data.get("client_secret", "")
        ok = secret_matches(row["secret_hash"] if row else None, secret) and row is not None
    if not ok or row is None:
        await lockout.failure(redis, client_id, source)
        raise _invalid_client()
    await lockout.success(redis, client_id, source)
    allowed = set(row["scopes"])
    requested = set((data.get("scope") or "").split()) or allowed
    if not requested <= allowed:
        raise _oauth_error("invalid_scope", "The client may not request these scopes.")
    principal = Principal(kind="client", subject=row["client_id"], org_id=row["org_id"], scopes=frozenset(requested))
    access, expires_in = await tokens.issue(principal)
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": " ".join(sorted(requested)),
    }


async def authenticate_officer(db: asyncpg.Pool, redis: Any, source: str, username: str, password: str) -> Principal:
    """The officer behind a username and password, under the per-source limits and lockouts.

    Used by the sign-in route and by the consoles' sign-in form, so both refuse alike.
    ``source`` is the caller's (``request_source``): failures lock the guesser's source for
    this username, never the officer (wallet_api/accounts/ratelimit.py).
    """
    lockout = LOCKOUTS["officer"]
    username = username.strip().lower()
    # Each attempt costs an argon2id hash: bound them per source first.
    await hit(redis, "officer-ip", source, limit=30, window=60)
    await lockout.check(redis, username, source)
    row = await db.fetchrow(
        """SELECT f.id, f.org_id, f.roles, f.password_hash FROM officers f JOIN organisations o ON o.id = f.org_id
           WHERE lower(f.username) = $1 AND f.disabled_at IS NULL AND o.disabled_at IS NULL""",
        username,
    )
    ok = await verify_password(row["password_hash"] if row else None, password)
    if not ok or row is None:
        await lockout.failure(redis, username, source)
        raise Unauthorized("Wrong username or password.", slug="sign-in-failed")
    await lockout.success(redis, username, source)
    return Principal(kind="officer", subject=str(row["id"]), org_id=row["org_id"], roles=frozenset(row["roles"]))


@post(
    "/v1/officers/sign-in",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["officers"],
    summary="Officer sign-in",
    status_code=HTTP_200_OK,
)
async def officer_sign_in(
    request: Request[Any, Any, Any], data: JSONBody[OfficerSignIn], db: Db, redis: RedisClient, tokens: Tokens
) -> TokenView:
    principal = await authenticate_officer(db, redis, request_source(request), data.username, data.password)
    access, expires_in = await tokens.issue(principal)
    return TokenView(access_token=access, expires_in=expires_in)
