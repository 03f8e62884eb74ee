"""Sign-in and sign-out pages, one pair per console, over the API's officer authentication,
and the console's page for an address that names no page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from consoles.pages import PAGE, page
from consoles.session import SESSION_SECONDS, console_of, require_csrf, session_cookies, signed_out_cookies
from wallet_api.accounts.common import request_source
from wallet_api.accounts.oauth import authenticate_officer
from wallet_api.kernel import PUBLIC, Forbidden, Problem

__all__ = ["sign_in_routes"]


def sign_in_routes(roles: frozenset[str]) -> list[HTTPRouteHandler]:
    """GET/POST ``sign-in``, POST ``sign-out`` and the not-found page of a console for officers of ``roles``."""

    @get("/sign-in", opt={**PUBLIC, **PAGE}, include_in_schema=False, name=None)
    async def sign_in_form(request: Request[Any, Any, Any]) -> Template:
        return page(request, "sign_in.html", message=None)

    @post("/sign-in", opt={**PUBLIC, **PAGE}, include_in_schema=False)
    async def sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        await require_csrf(request)
        username, password = form.get("username"), form.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            return page(
                request,
                "sign_in.html",
                status_code=422,
                message="Nhập tên và mật khẩu. / Enter a username and a password.",
            )
        state = request.app.state
        try:
            principal = await authenticate_officer(
                state.services.pool, state.services.redis, request_source(request), username, password
            )
        except Problem as exc:
            if exc.status == 401:
                return page(
                    request,
                    "sign_in.html",
                    status_code=401,
                    message="Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.",
                )
            raise
        if not principal.roles & roles:
            raise Forbidden(f"This console is for officers with one of the roles: {', '.join(sorted(roles))}.")
        token, _ = await state.services.tokens.issue(principal, ttl_seconds=SESSION_SECONDS)
        console = console_of(request.url.path)
        return Redirect(
            f"/{console}",
            status_code=HTTP_303_SEE_OTHER,
            cookies=session_cookies(token, state.services.settings, console),
        )

    @post("/sign-out", opt={**PUBLIC, **PAGE}, include_in_schema=False)
    async def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
        await require_csrf(request)
        console = console_of(request.url.path)
        return Redirect(
            f"/{console}/sign-in",
            status_code=HTTP_303_SEE_OTHER,
            cookies=signed_out_cookies(request.app.state.services.settings, console),
        )

    @get("/{rest:path}", opt={**PUBLIC, **PAGE}, include_in_schema=False)
    async def not_found(rest: str) -> None:
        # An address under the console that names no page: a page saying so, not the API's JSON.
        raise NotFoundException("There is no such page in this console.")

    return [sign_in_form, sign_in, sign_out, not_found]
