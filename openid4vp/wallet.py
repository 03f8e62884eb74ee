"""What a wallet talks to: the request URI, the response URI, and what it trusts us by.

Both endpoints answer in OAuth's own error format (``{"error", "error_description"}``),
never a problem document: a wallet reads them. A request object is served once
(``invalid_request_uri`` afterwards). A response is taken only if it carries the request's
``state`` (for ``direct_post.jwt``: inside the JWE, which must decrypt with the request's key),
so a stranger who saw the QR code cannot spoil the request; the first such response is then
checked and any later one is a replay (``invalid_request``). A refused response stores
only why (no claims) for the verifier to read; nothing is logged for the holder unless a
document was identified, as for every verification.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from litestar import MediaType, Request, Response, get, post
from litestar.params import FromPath
from litestar.types import Middleware
from redis.exceptions import RedisError

from openid4vp import transactions
from openid4vp.api import base_url
from openid4vp.dcql import DcqlInvalid, DcqlQuery, parse_dcql
from openid4vp.identity import VERIFIER_IDENTITY
from openid4vp.request_object import (
    ENCRYPTION_ENCS,
    REQUEST_TYP,
    VP_FORMATS,
    private_encryption_key,
    signed_request_object,
)
from openid4vp.responses import ResponseRefused, judge
from wallet_api.kernel import (
    NOT_REPLAYED,
    PUBLIC,
    AppServices,
    ASGIApp,
    JoseError,
    Receive,
    Scope,
    Send,
    Services,
    content_length,
    decrypt_ecdh_es,
    read_body,
)

__all__ = ["RESPONSE_BODY_LIMIT", "ROUTES", "ServedDirectly", "respond"]

#: Largest response a wallet may post: a few SD-JWT VCs with a 16 KiB portrait each, encrypted.
RESPONSE_BODY_LIMIT = 256 * 1024
_TAGS = ["openid4vp"]
_NO_STORE = {"Cache-Control": "no-store"}


def _error(error: str, description: str, status: int = 400) -> Response[dict[str, str]]:
    body = {"error": error, "error_description": description}
    return Response(body, status_code=status, headers=_NO_STORE, media_type=MediaType.JSON)


def _too_large(_: Request[Any, Any, Any], __: Exception) -> Response[dict[str, str]]:
    # Litestar refuses an oversized body before reading it; the wallet still reads OAuth's format.
    return _error("invalid_request", "The response is larger than this endpoint accepts.", 413)


_UNAVAILABLE = ("temporarily_unavailable", "Try again shortly.", 503)


def _unavailable() -> Response[dict[str, str]]:
    return _error(*_UNAVAILABLE)


@get(
    "/openid4vp/requests/{request_id:str}",
    opt=PUBLIC,
    tags=_TAGS,
    summary="The signed request object of a presentation request (OpenID4VP request_uri; served once)",
    media_type=REQUEST_TYP,
)
async def request_object(services: AppServices, request_id: FromPath[str]) -> Response[Any]:
    try:
        tx = await transactions.claim(services.redis, request_id, phase="created", to="fetched")
    except RedisError:
        return _unavailable()
    if isinstance(tx, str):
        reason = "is unknown or expired" if tx == "unknown" else "was already fetched"
        return _error("invalid_request_uri", f"This request {reason}; ask the verifier for a new one.")
    identity = await services.get(VERIFIER_IDENTITY).current()
    body = signed_request_object(tx, identity, tx.verifier_name)
    return Response(body, media_type=f"application/{REQUEST_TYP}", headers=_NO_STORE)


def _form(raw: bytes) -> dict[str, str] | None:
    """The form fields of a response, each once; None if it is not such a form."""
    try:
        pairs = parse_qsl(raw.decode("utf-8"), strict_parsing=True, max_num_fields=8, errors="strict")
    except (UnicodeError, ValueError):
        return None
    form = dict(pairs)
    return form if len(form) == len(pairs) else None


def _opened(tx: transactions.Transaction, form: dict[str, str]) -> dict[str, Any]:
    """The parameters of an encrypted response (``direct_post.jwt``): the decrypted JWE."""
    if tx.mode != "direct_post.jwt":
        raise ResponseRefused("malformed-response", "This request asked for a plain direct_post response.")
    if set(form) != {"response"}:
        raise ResponseRefused("malformed-response", "direct_post.jwt carries one parameter: response.")
    try:
        return decrypt_ecdh_es(
            form["response"], private_encryption_key(tx.enc_key), kid=tx.enc_kid, encs=ENCRYPTION_ENCS
        )
    except JoseError as exc:
        raise ResponseRefused("undecryptable-response", f"The response does not decrypt ({exc}).") from None


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> DcqlQuery:
    # Verifiers send the same few queries again and again: each text is read once per process.
    return parse_dcql(json.loads(text))


def _query(tx: transactions.Transaction) -> DcqlQuery:
    """The request's query, read again (it was checked when the request was made)."""
    try:
        return _parsed(tx.dcql)
    except DcqlInvalid:  # the document types changed since (a deployment): the request cannot be judged
        raise ResponseRefused("request-outdated", "This request can no longer be judged; ask for a new one.") from None


def _ttl(services: Services) -> int:
    """How long the outcome stays for the verifier to read."""
    return services.settings.openid4vp.result_ttl_seconds


async def _take(
    services: Services, request_id: str, form: dict[str, str]
) -> tuple[transactions.Transaction, dict[str, Any]] | str:
    """The request, taken for checking, and the response's parameters; or the phase it was in.

    A response is taken only if it shows the request's state. A plain form's state is checked
    by the script that takes the request (one round trip); an encrypted response's state is
    inside the JWE, which is opened with the request's key first.
    """
    if "response" not in form:
        state = form.get("state")
        if not state:
            raise ResponseRefused("malformed-response", "The response carries no state.")
        taken = await transactions.claim(services.redis, request_id, phase="fetched", to="checking", state=state)
        return taken if isinstance(taken, str) else (taken, dict(form))
    tx = await transactions.peek(services.redis, request_id)
    if isinstance(tx, str):
        return tx
    params = _opened(tx, form)
    state = params.get("state")
    if not isinstance(state, str) or not secrets.compare_digest(state.encode(), tx.state.encode()):
        return "state-mismatch"
    taken = await transactions.claim(services.redis, request_id, phase="fetched", to="checking")
    return taken if isinstance(taken, str) else (taken, params)


def _redirect(tx: transactions.Transaction, code: str) -> dict[str, str]:
    if not code:
        return {}
    joiner = "&" if urlsplit(tx.redirect_uri).query else "?"
    return {"redirect_uri": f"{tx.redirect_uri}{joiner}{urlencode({'response_code': code})}"}


def _refusal(error: str, description: str, status: int = 400) -> tuple[int, dict[str, str]]:
    return status, {"error": error, "error_description": description}


async def respond(services: Services, request_id: str, body: bytes) -> tuple[int, dict[str, str]]:
    """The status and answer for a wallet's response ``body`` to the request ``request_id``.

    The one function behind the response endpoint, however it is served (see
    :class:`ServedDirectly`); the answer goes with ``Cache-Control: no-store``.
    """
    form = _form(body)
    if form is None:
        return _refusal("invalid_request", "The response must be an application/x-www-form-urlencoded form.")
    try:
        taken = await _take(services, request_id, form)
    except RedisError:
        return _refusal(*_UNAVAILABLE)
    except ResponseRefused as exc:
        return _refusal(exc.error, exc.detail)  # not known to come from the request's wallet: nothing is spent
    if isinstance(taken, str):
        said = {
            "unknown": "is unknown or expired",
            "created": "was never fetched",
            "state-mismatch": "has another state",
        }.get(taken, "was already answered")
        return _refusal("invalid_request", f"This request {said}.")
    tx, params = taken
    ttl = _ttl(services)
    if tx.mode == "direct_post.jwt" and "response" not in form and "error" not in form:
        plain = ResponseRefused("unencrypted-response", "This request asked for an encrypted response.")
        await transactions.finish(services.redis, tx, phase="refused", result=plain.as_result(), ttl=ttl)
        return _refusal(plain.error, plain.detail)
    state = params["state"]
    # Same-device: the redirect carries a fresh code, and only a read showing it gets the result.
    code = secrets.token_urlsafe(16) if tx.redirect_uri else ""
    if "error" in params:  # the wallet declined (the person said no, no matching credential, ...)
        wallet_error = ResponseRefused(
            "wallet-error", str(params.get("error_description", ""))[:300], str(params["error"])[:64]
        )
        await transactions.finish(services.redis, tx, phase="refused", result=wallet_error.as_result(), ttl=ttl)
        return 200, _redirect(tx, code)
    try:
        result = await judge(services, tx, _query(tx), state, params.get("vp_token"))
    except ResponseRefused as exc:
        await transactions.finish(services.redis, tx, phase="refused", result=exc.as_result(), ttl=ttl)
        return _refusal(exc.error, exc.detail)
    await transactions.finish(services.redis, tx, phase="answered", result=result, ttl=ttl, response_code=code)
    return 200, _redirect(tx, code)


class ServedDirectly:
    """Route-level middleware of the response endpoint: its ordinary requests skip the framework's handling.

    Like ``DIRECT_JSON`` on the verification routes (docs/architecture.md), for a route whose
    body is a form: the route stays an ordinary Litestar route (routing, OpenAPI, the app's
    middleware, its body limit and exception handlers), and a request that declares its
    ``Content-Length`` within the limit is answered here by :func:`respond`, the function the
    route's handler calls, with the headers Litestar would send (``Content-Type``,
    ``Cache-Control: no-store``, ``Content-Length``). Anything else (no ``Content-Length``,
    or one above the limit) goes on to Litestar's handling of the same route.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = content_length(scope)
        if length is None or length > RESPONSE_BODY_LIMIT:
            await self.app(scope, receive, send)  # Litestar applies the limit and answers 413
            return
        body, receive = await read_body(receive, RESPONSE_BODY_LIMIT)
        if body is None:
            # The client left, or sent more than it declared: Litestar's handling of the
            # same route answers (413 by the route's handler), from the replayed messages.
            await self.app(scope, receive, send)
            return
        services = cast(Services, scope["litestar_app"].state.services)
        status, answer = await respond(services, scope["path_params"]["request_id"], body)
        payload = msgspec.json.encode(answer)
        headers = [*_DIRECT_HEADERS, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload, "more_body": False})


_DIRECT_HEADERS = ((b"content-type", MediaType.JSON.value.encode()), (b"cache-control", b"no-store"))


@post(
    "/openid4vp/responses/{request_id:str}",
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=_TAGS,
    summary="Where the wallet posts its response (direct_post or direct_post.jwt)",
    request_max_body_size=RESPONSE_BODY_LIMIT,
    exception_handlers={413: _too_large},
    status_code=200,
    media_type=MediaType.JSON,
    middleware=[cast(Middleware, ServedDirectly)],
)
async def response_endpoint(request: Request[Any, Any, Any], request_id: FromPath[str]) -> Response[Any]:
    # The services are read from the app's state rather than injected, as on the verification
    # route: on a route this hot, the injection's own checks cost more than they give.
    services = cast(Services, request.app.state.services)
    status, answer = await respond(services, request_id, await request.body())
    return Response(answer, status_code=status, headers=_NO_STORE, media_type=MediaType.JSON)


@get(
    "/openid4vp/verifier-ca.pem",
    opt=PUBLIC,
    tags=_TAGS,
    summary="The root certificate wallets trust the verifier service's request objects by",
    media_type="application/x-pem-file",
)
async def verifier_ca(services: AppServices) -> Response[bytes]:
    identity = await services.get(VERIFIER_IDENTITY).current()
    pem = x509.load_der_x509_certificate(identity.root).public_bytes(serialization.Encoding.PEM)
    return Response(pem, media_type="application/x-pem-file", headers={"Cache-Control": "public, max-age=3600"})


@get(
    "/openid4vp/clients/{client_id:str}",
    opt=PUBLIC,
    tags=_TAGS,
    summary="A pre-registered verifier's client metadata (its name, formats, our request-signing certificate)",
)
async def client_metadata(services: AppServices, client_id: FromPath[str]) -> Response[Any]:
    name = await services.pool.fetchval(
        "SELECT name FROM organisations WHERE id = $1 AND disabled_at IS NULL", client_id
    )
    if name is None:
        return _error("invalid_client", "No such pre-registered verifier.", 404)
    identity = await services.get(VERIFIER_IDENTITY).current()
    return Response(
        {
            "client_id": client_id,
            "client_name": name,
            "vp_formats_supported": VP_FORMATS,
            "request_object_signing_alg": "ES256",
            "jwks": {"keys": [{**identity.key.public_jwk, "x5c": [base64.b64encode(identity.chain[0]).decode()]}]},
            "response_uris_prefix": f"{base_url(services.settings)}/openid4vp/responses/",
        },
        headers={"Cache-Control": "public, max-age=300"},
    )


ROUTES = [request_object, response_endpoint, verifier_ca, client_metadata]
