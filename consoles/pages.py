"""Rendering console pages: templates, security headers, and errors shown as pages.

Every console response carries a strict Content-Security-Policy (scripts, styles and
everything else from this origin only, no inline script or style), so a value that slipped
into a page could not run. Errors on a page route become a page saying what went wrong
(a sign-in form for 401), never a stack trace; routes called by the pages' scripts answer
RFC 9457 problems as the API does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.datastructures import ResponseHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from consoles.session import CSRF_FIELD, console_of, csrf_token, presession_cookie, session_expired
from wallet_api.kernel import Principal, Problem, current_request_id, exception_handlers, problem_response

__all__ = [
    "PAGE",
    "SECURITY_HEADERS",
    "TEMPLATES",
    "page",
    "page_exception_handlers",
]

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
TEMPLATES = TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)

#: ``opt`` of routes that answer with pages (their errors are pages too).
PAGE: dict[str, Any] = {"page": True}

_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = [
    ResponseHeader(name="Content-Security-Policy", value=_CSP),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="no-referrer"),
    ResponseHeader(name="X-Frame-Options", value="DENY"),
    ResponseHeader(name="Permissions-Policy", value="camera=(self), microphone=(), geolocation=()"),
]


def page(request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any) -> Template:
    """A page with what every template needs: the officer, the CSRF token, the console."""
    user = request.scope.get("user")
    response = Template(
        template_name=template,
        status_code=status_code,
        context={
            "officer": user if isinstance(user, Principal) else None,
            "console": console_of(request.url.path),
            "csrf_field": CSRF_FIELD,
            "request_id": current_request_id(),
            **context,
        },
        # The router's response headers do not reach answers made by exception handlers
        # (error pages, the sign-in page for 401): every page sets them itself.
        headers={"Cache-Control": "no-store", **{h.name: h.value or "" for h in SECURITY_HEADERS}},
    )
    settings = request.app.state.services.settings
    presession_cookie(request, response, settings)
    response.context["csrf"] = csrf_token(request)
    return response


def _is_page(request: Request[Any, Any, Any]) -> bool:
    handler = request.scope.get("route_handler")
    return bool(handler is not None and handler.opt.get("page"))


def _problem_page(request: Request[Any, Any, Any], problem: Problem) -> Response[Any]:
    if problem.status == 401:
        expired = session_expired(request)
        message = (
            "Phiên đăng nhập đã hết hạn; hãy đăng nhập lại. / Your session has expired; sign in again."
            if expired
            else "Hãy đăng nhập. / Please sign in."
        )
        if problem.slug == "sign-in-failed":
            message = "Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password."
        return page(request, "sign_in.html", status_code=401, message=message, next=request.url.path)
    return page(request, "error.html", status_code=problem.status, problem=problem.body())


def _on_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    if _is_page(request):
        return _problem_page(request, exc)
    return problem_response(exc, request)


def _on_other(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Everything else the API would answer: as the API does, or as a page on page routes."""
    handler = exception_handlers().get(type(exc))
    if handler is None:
        for cls in type(exc).__mro__:
            handler = exception_handlers().get(cls)
            if handler is not None:
                break
    if handler is None:
        log.error("unhandled error on a console page", exc_info=exc)
        answer = problem_response(Problem("Unexpected error.", slug="internal", title="Internal error", status=500))
    else:
        answer = handler(request, exc)
    if not _is_page(request):
        return answer
    body = answer.content if isinstance(answer.content, dict) else {}
    problem = Problem(
        body.get("detail"),
        slug=str(body.get("type", "")).rsplit("/", 1)[-1] or None,
        title=body.get("title"),
        status=answer.status_code,
    )
    return _problem_page(request, problem)


def page_exception_handlers() -> dict[type[Exception] | int, Any]:
    # Every class the app handles, not only the base ones: a handler the app registers for a
    # subclass (NotFoundException) would otherwise win over the console's for HTTPException.
    return {**dict.fromkeys(exception_handlers(), _on_other), Problem: _on_problem}
