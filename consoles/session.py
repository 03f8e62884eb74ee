"""Console sessions: an officer's access token in an HttpOnly cookie, and CSRF tokens.

The cookie holds the same kind of access token the officer would get from
``POST /v1/officers/sign-in`` (so a page can never do more than that officer's API calls),
issued for ``SESSION_SECONDS``; ``SameSite=Strict``, ``HttpOnly``, ``Secure`` outside
development and tests. ``SessionCookieMiddleware`` turns the cookie into the request's
principal, so the consoles' routes use the API's own guards.

CSRF: every form and every script call carries a token derived from the cookie it rides
with (the session, or before sign-in a random pre-session cookie); a page of another site
can neither read the cookie nor compute the token. Bearer-token callers need none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie

from wallet_api.kernel import ASGIApp, Forbidden, InvalidToken, Principal, Receive, Scope, Send, Settings, TokenService

__all__ = [
    "CONSOLES",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "SessionCookieMiddleware",
    "console_of",
    "csrf_token",
    "presession_cookie",
    "require_csrf",
    "session_cookies",
    "signed_out_cookies",
]

SESSION_COOKIE = "cw_session"
PRESESSION_COOKIE = "cw_pre"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: A console session lasts half an hour; then the officer signs in again.
SESSION_SECONDS = 1800
_EXPIRED = "console.session_expired"
_FROM_COOKIE = "console.from_cookie"


#: The consoles, by path: each has its own session cookie (``Path`` = the console), so an
#: officer signed in to one console is not thereby signed in to another.
CONSOLES = ("verify", "agency", "welfare")


def console_of(path: str) -> str:
    for name in CONSOLES:
        if path == f"/{name}" or path.startswith(f"/{name}/"):
            return name
    return CONSOLES[0]


def _cookie(name: str, value: str, settings: Settings, max_age: int | None, console: str) -> Cookie:
    return Cookie(
        key=name,
        value=value,
        path=f"/{console}",
        httponly=True,
        samesite="strict",
        secure=settings.env not in ("development", "test"),
        max_age=max_age,
    )


def session_cookies(token: str, settings: Settings, console: str) -> list[Cookie]:
    return [
        _cookie(SESSION_COOKIE, token, settings, SESSION_SECONDS, console),
        _cookie(PRESESSION_COOKIE, "", settings, 0, console),
    ]


def signed_out_cookies(settings: Settings, console: str) -> list[Cookie]:
    return [_cookie(SESSION_COOKIE, "", settings, 0, console)]


def presession_cookie(request: Request[Any, Any, Any], response: Response[Any], settings: Settings) -> None:
    """Give a browser without one a random pre-session cookie (what the sign-in form's token is bound to)."""
    if not request.cookies.get(PRESESSION_COOKIE) and not request.cookies.get(SESSION_COOKIE):
        value = secrets.token_urlsafe(24)
        scope: Any = request.scope
        scope["console.presession"] = value
        response.cookies.append(_cookie(PRESESSION_COOKIE, value, settings, None, console_of(request.url.path)))


def _binding(request: Request[Any, Any, Any]) -> str:
    scope: Any = request.scope
    return str(
        request.cookies.get(SESSION_COOKIE)
        or request.cookies.get(PRESESSION_COOKIE)
        or scope.get("console.presession", "")
    )


def csrf_token(request: Request[Any, Any, Any]) -> str:
    binding = _binding(request)
    if not binding:
        return ""
    return hashlib.sha256(b"citizen-wallet:csrf:" + binding.encode()).hexdigest()


async def require_csrf(request: Request[Any, Any, Any], sent: str | None = None) -> None:
    """Refuse a state-changing request from the browser that lacks the right CSRF token."""
    if request.scope.get("user") is not None and not request.scope.get(_FROM_COOKIE):
        return  # a bearer token is never sent by a browser on its own
    if sent is None:
        sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type[0] in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = csrf_token(request)
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            "This form has expired or did not come from this site; reload the page and try again.",
            slug="csrf-token",
            title="Form token missing or wrong",
        )


def session_expired(request: Request[Any, Any, Any]) -> bool:
    return bool(request.scope.get(_EXPIRED))


class SessionCookieMiddleware:
    """Sets the principal from the session cookie when no bearer token did."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("user") is None:
            token = _cookie_value(scope, SESSION_COOKIE)
            if token:
                tokens: TokenService = scope["litestar_app"].state.services.tokens
                try:
                    principal: Principal = await tokens.verify(token)
                except InvalidToken:
                    scope[_EXPIRED] = True
                else:
                    scope["user"] = principal
                    scope[_FROM_COOKIE] = True
        await self.app(scope, receive, send)


def _cookie_value(scope: Scope, name: str) -> str | None:
    for header, value in scope["headers"]:
        if header == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key == name:
                    return str(val)
    return None
