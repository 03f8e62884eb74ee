"""Idempotency keys for every POST: one mechanism for all domains.

A client that may retry (a phone on a bad network, an agency's batch job) sends
``Idempotency-Key``. The first request with a key runs; its response (2xx or 4xx) is
stored in PostgreSQL with a fingerprint of the request. A retry with the same key and the
same request gets the stored response back (``Idempotent-Replayed: true``); the same key
with a different request is refused (422, ``idempotency-key-reuse``); a retry that arrives
while the first is still running is told to wait (409, ``idempotency-in-progress``).

Keys are scoped to the caller, so two callers can never see each other's responses: an
authenticated key belongs to the principal; an anonymous key belongs to the exact request
(its fingerprint), never to a client address that many clients may share. A 5xx is not
stored: the key is released so the client can retry. A stuck ``in_progress`` claim (a
process that died mid-request) expires after ``_LOCK_SECONDS``.

**Answers that are never stored.** A route whose answer carries a secret (access and
refresh tokens, one-time codes, pending-registration or pairing ids) or personal data
(verified claims, names, wallet numbers) declares ``opt=NOT_REPLAYED``. Its key still
serialises concurrent duplicates and refuses a different request, but only the
fingerprint is kept: a retry runs the route again, which is safe because each of them
spends a single-use input (a challenge, a code, a refresh token — whose second use revokes
its family) or re-checks the caller's credentials. A replay therefore never hands out
tokens, nor mints a second session from the first request.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import asyncpg

from wallet_api.asgi import ASGIApp, Message, Receive, Scope, Send
from wallet_api.auth.principal import Principal
from wallet_api.problems import Conflict, Problem, ValidationFailed, problem_response

__all__ = ["NOT_REPLAYED", "IdempotencyMiddleware", "replays"]

_HEADER = b"idempotency-key"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_LOCK_SECONDS = 120
#: Bodies above this are fingerprinted by their digest as they stream, not buffered.
_MAX_BUFFERED_BODY = 8 * 1024 * 1024
_SKIPPED_RESPONSE_HEADERS = {b"x-request-id", b"content-length", b"date", b"server"}

#: ``opt`` of a route whose answer must never be stored (merge with others: ``{**PUBLIC, **NOT_REPLAYED}``).
NOT_REPLAYED: dict[str, Any] = {"idempotency": "not-replayed"}

_CLAIM = """
INSERT INTO idempotency_keys (principal, key, fingerprint, method, path, state, locked_until)
VALUES ($1, $2, $3, $4, $5, 'in_progress', now() + make_interval(secs => $6))
ON CONFLICT (principal, key) DO UPDATE
    SET state = 'in_progress', locked_until = EXCLUDED.locked_until
    WHERE idempotency_keys.fingerprint = EXCLUDED.fingerprint
      AND (idempotency_keys.state = 'rerun'
           OR (idempotency_keys.state = 'in_progress' AND idempotency_keys.locked_until < now()))
RETURNING true
"""

# What is kept of an answer that must not be stored: the fingerprint alone.
_KEEP_FINGERPRINT = """
UPDATE idempotency_keys SET state = 'rerun', status = NULL, headers = NULL, body = NULL, locked_until = NULL
WHERE principal = $1 AND key = $2
"""


def replays(route_opt: dict[str, Any]) -> bool:
    """Whether a route's answers may be stored and replayed (see ``NOT_REPLAYED``)."""
    return bool(route_opt.get("idempotency") != NOT_REPLAYED["idempotency"])


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = _header(scope, _HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _VALID_KEY.match(key):
            await _send_problem(
                scope, receive, send,
                ValidationFailed("Idempotency-Key must be 1 to 255 visible ASCII characters.",
                                 slug="idempotency-key-invalid"),
            )  # fmt: skip
            return
        body, replay_receive = await _read_body(scope, receive)
        fingerprint = _fingerprint(scope, body)
        principal = _scope_principal(scope, fingerprint)
        pool: asyncpg.Pool = scope["litestar_app"].state.services.pool
        path = scope["path"]
        claimed = await pool.fetchval(_CLAIM, principal, key, fingerprint, "POST", path, _LOCK_SECONDS)
        if not claimed:
            await self._answer_existing(scope, receive, send, pool, principal, key, fingerprint)
            return

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": bytearray()}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", ()))
                message["headers"] = [*captured["headers"], (b"idempotent-replayed", b"false")]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            await pool.execute("DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2", principal, key)
            raise
        if captured["status"] >= 500:
            await pool.execute("DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2", principal, key)
            return
        handler = scope.get("route_handler")
        if handler is not None and not replays(handler.opt):
            await pool.execute(_KEEP_FINGERPRINT, principal, key)
            return
        headers = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in captured["headers"]
            if k.lower() not in _SKIPPED_RESPONSE_HEADERS
        }
        await pool.execute(
            """UPDATE idempotency_keys SET state = 'done', status = $3, headers = $4, body = $5, locked_until = NULL
               WHERE principal = $1 AND key = $2""",
            principal,
            key,
            captured["status"],
            headers,
            bytes(captured["body"]),
        )

    async def _answer_existing(
        self, scope: Scope, receive: Receive, send: Send, pool: asyncpg.Pool, principal: str, key: str, fingerprint: str
    ) -> None:
        row = await pool.fetchrow(
            "SELECT fingerprint, state, status, headers, body FROM idempotency_keys WHERE principal = $1 AND key = $2",
            principal,
            key,
        )
        if row is None:  # released between our claim and this read: ask for a retry
            await _send_problem(scope, receive, send, _in_progress())
            return
        if row["fingerprint"] != fingerprint:
            await _send_problem(
                scope, receive, send,
                ValidationFailed(
                    "This Idempotency-Key was already used for a different request. Use a new key.",
                    slug="idempotency-key-reuse",
                    title="Idempotency key reused with a different request",
                ),
            )  # fmt: skip
            return
        if row["state"] != "done":
            await _send_problem(scope, receive, send, _in_progress())
            return
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (row["headers"] or {}).items()]
        body = row["body"] or b""
        headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
        await send({"type": "http.response.start", "status": row["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _in_progress() -> Problem:
    return Conflict(
        "A request with this Idempotency-Key is still being processed. Retry shortly.",
        slug="idempotency-in-progress",
        title="Request with this key in progress",
        headers={"Retry-After": "1"},
    )


async def _send_problem(scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
    await problem_response(problem).to_asgi_response(app=None, request=None)(scope, receive, send)  # type: ignore[arg-type]


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope["headers"]:
        if k == name:
            return str(v.decode("latin-1"))
    return None


def _scope_principal(scope: Scope, fingerprint: str) -> str:
    """Whose key this is: the principal, or for anonymous calls the request itself.

    An anonymous caller has nothing that tells it apart from another (clients behind one
    proxy or carrier NAT share an address), so its key names the exact request: only a
    caller sending the same bytes can meet the stored answer, and answers of anonymous
    routes that would tell such a caller anything it does not hold already are never stored.
    """
    user = scope.get("user")
    if isinstance(user, Principal):
        return user.key
    return f"anonymous:{fingerprint}"


def _fingerprint(scope: Scope, body: bytes) -> str:
    h = hashlib.sha256()
    h.update(scope["path"].encode())
    h.update(b"\0")
    h.update(scope.get("query_string", b""))
    h.update(b"\0")
    h.update((_header(scope, b"content-type") or "").encode())
    h.update(b"\0")
    h.update(body)
    return h.hexdigest()


async def _read_body(scope: Scope, receive: Receive) -> tuple[bytes, Receive]:
    """Buffer the request body to fingerprint it, and hand the app a receive that replays it.

    A body declared larger than ``_MAX_BUFFERED_BODY`` (a bulk upload) is never held in
    memory: it streams to the app untouched and the fingerprint covers its length and the
    client's ``Content-Digest`` header (RFC 9530) instead of its bytes.
    """
    # Never buffer more than the route itself accepts (wallet_api/bodylimits.py): Litestar
    # checks only when the route reads, after this layer; a body declared larger is passed
    # on unread, for the route to refuse.
    limit = scope["route_handler"].resolve_request_max_body_size() or _MAX_BUFFERED_BODY
    length = _header(scope, b"content-length")
    if length is not None and length.isdigit() and int(length) > min(limit, _MAX_BUFFERED_BODY):
        digest = _header(scope, b"content-digest") or ""
        return f"length={length};digest={digest}".encode(), receive
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            raise Problem(
                "The request body is too large for this route.",
                slug="payload-too-large",
                title="Request body too large",
                status=413,
            )
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
