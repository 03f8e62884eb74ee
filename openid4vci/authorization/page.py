"""The authorization page (``GET /openid4vci/authorize``) and its way back to the wallet.

The wallet sends the citizen's browser here with the ``request_uri`` it pushed. The page
never asks for a password: it shows a QR code and a same-device link carrying a short
approval handle, and the citizen approves in the Citizen Wallet app, signed in with its
bound device (``approvals.py``). The page then sends the browser back to the wallet's
``redirect_uri`` with the code, or with ``error=access_denied``.

The browser is told the outcome by polling ``…/{flow}/status`` every two seconds. Polling,
not a server-sent stream: a decision takes a person seconds to minutes, a poll is one
indexed read, and a waiting page then holds no connection open (every open stream counts
against a process's concurrency, docs/configuration.md) nor needs a message bus between
the process that takes the app's approval and the one the page is connected to.

Only the browser that opened the page gets the code: opening it sets a cookie holding a
secret (HttpOnly, SameSite=Strict, for this flow's paths only), the approval handle is
derived from that secret, and ``…/{flow}/continue`` makes the code once, for that cookie.
Errors before the redirect URI is known to belong to the request (an unknown, used or
expired ``request_uri``, another client's) are shown as a page, never redirected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, get
from litestar.datastructures import Cookie
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_303_SEE_OTHER

from documents.qr import render_qr
from documents.types import get_type
from openid4vci.authorization.endpoints import AUTHORIZE_PATH
from openid4vci.authorization.store import Authorization, collect_code, handle_of, open_request, read_by_browser
from openid4vci.metadata import credential_issuer
from wallet_api.kernel import PUBLIC, AppServices, Settings

__all__ = ["PAGE_ROUTES", "approval_link"]

_COOKIE = "oid4vci_flow"
_HERE = Path(__file__).parent
_TEMPLATES = Environment(
    loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(default=True), auto_reload=False
)
#: Scripts, styles and images from this origin only; the QR is inline SVG markup.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def approval_link(settings: Settings, handle: str) -> str:
    """What the QR and the same-device button carry: an https link the app opens (its universal link)."""
    return f"{credential_issuer(settings)}/openid4vci/approve/{handle}"


def _html(template: str, status: int = 200, cookies: list[Cookie] | None = None, **context: Any) -> Response[str]:
    body = _TEMPLATES.get_template(template).render(**context)
    return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=_HEADERS, cookies=cookies)


def _refusal(message_vi: str, message_en: str, status: int = 400) -> Response[str]:
    return _html("authorize_error.html", status, message_vi=message_vi, message_en=message_en)


def _titles(authorization: Authorization) -> list[dict[str, str]]:
    titles = []
    for requested in authorization.requested:
        doc_type = get_type(requested["doc_type"])
        if doc_type is not None:
            titles.append({"vi": doc_type.title.vi, "en": doc_type.title.en})
    return titles


def _waiting_page(
    settings: Settings, authorization: Authorization, browser: str, cookies: list[Cookie] | None = None
) -> Response[str]:
    link = approval_link(settings, handle_of(browser))
    flow = f"{AUTHORIZE_PATH}/{authorization.id}"
    return _html(
        "authorize.html",
        cookies=cookies,
        wallet=authorization.wallet_name or authorization.client_id,
        client_id=authorization.client_id,
        attested_by=authorization.attested_by,
        documents=_titles(authorization),
        qr_svg=render_qr(link).svg,
        link=link,
        status_url=f"{flow}/status",
        continue_url=f"{flow}/continue",
        expires_at=authorization.approval_expires_at,
    )


@get(AUTHORIZE_PATH, opt=PUBLIC, include_in_schema=False)
async def authorize(request: Request[Any, Any, Any], services: AppServices) -> Response[str]:
    """Open a pushed request (once): the page with the QR and the app link."""
    settings = services.settings
    client_id, request_uri = request.query_params.get("client_id"), request.query_params.get("request_uri")
    if not client_id or not request_uri:
        return _refusal("Thiếu client_id hoặc request_uri.", "client_id and request_uri are required.")
    opened = await open_request(
        services.pool, request_uri, client_id, approval_ttl=settings.openid4vci.approval_ttl_seconds
    )
    if opened is None:
        return _refusal(
            "Yêu cầu này không tồn tại, đã hết hạn hoặc đã được dùng. Hãy bắt đầu lại từ ví của bạn.",
            "This request is unknown, expired or already used. Start again from your wallet.",
        )
    authorization, browser = opened
    cookie = Cookie(
        key=_COOKIE,
        value=browser,
        path=f"{AUTHORIZE_PATH}/{authorization.id}",
        max_age=settings.openid4vci.approval_ttl_seconds + settings.openid4vci.code_ttl_seconds,
        httponly=True,
        samesite="strict",
        secure=settings.public_base_url.startswith("https://"),
    )
    return _waiting_page(settings, authorization, browser, [cookie])


async def _flow(request: Request[Any, Any, Any], services: AppServices, flow: UUID) -> tuple[Authorization, str] | None:
    browser = request.cookies.get(_COOKIE)
    if not browser or len(browser) > 100:
        return None
    authorization = await read_by_browser(services.pool, browser)
    return (authorization, browser) if authorization is not None and authorization.id == flow else None


def _status(authorization: Authorization) -> str:
    if authorization.decision == "approved":
        return "done" if authorization.code_delivered else "approved"
    if authorization.decision == "denied":
        return "denied"
    return "pending" if authorization.approval_open else "expired"


@get(f"{AUTHORIZE_PATH}/{{flow:uuid}}/status", opt=PUBLIC, include_in_schema=False)
async def authorization_status(
    request: Request[Any, Any, Any], services: AppServices, flow: UUID
) -> Response[dict[str, str]]:
    """What the page's script polls: pending, approved, denied, expired, done, or unknown."""
    found = await _flow(request, services, flow)
    status = _status(found[0]) if found else "unknown"
    return Response({"status": status}, headers={"Cache-Control": "no-store"})


def _back_to_wallet(settings: Settings, authorization: Authorization, **params: str) -> Response[str]:
    query = {**params, **({"state": authorization.state} if authorization.state else {})}
    query["iss"] = credential_issuer(settings)  # RFC 9207: which server answered
    separator = "&" if "?" in authorization.redirect_uri else "?"
    location = authorization.redirect_uri + separator + urlencode(query)
    response: Response[str] = Response(
        "", status_code=HTTP_303_SEE_OTHER, headers={**_HEADERS, "Location": location}, media_type="text/plain"
    )
    response.delete_cookie(_COOKIE, path=f"{AUTHORIZE_PATH}/{authorization.id}")
    return response


@get(f"{AUTHORIZE_PATH}/{{flow:uuid}}/continue", opt=PUBLIC, include_in_schema=False)
async def continue_to_wallet(request: Request[Any, Any, Any], services: AppServices, flow: UUID) -> Response[str]:
    """Back to the wallet with the code (made once, for this browser) or the refusal; still waiting: the page."""
    settings = services.settings
    found = await _flow(request, services, flow)
    if found is None:
        return _refusal(
            "Không tìm thấy yêu cầu này trên trình duyệt này. Hãy bắt đầu lại từ ví của bạn.",
            "This request is not known to this browser. Start again from your wallet.",
        )
    authorization, browser = found
    if authorization.decision == "approved":
        collected = await collect_code(services.pool, browser, ttl=settings.openid4vci.code_ttl_seconds)
        if collected is None:
            return _refusal("Yêu cầu này đã hoàn tất.", "This request is already complete.", 409)
        code, authorization = collected
        return _back_to_wallet(settings, authorization, code=code)
    if authorization.decision == "denied":
        return _back_to_wallet(
            settings, authorization, error="access_denied", error_description="The citizen declined in the app."
        )
    if not authorization.approval_open:
        return _back_to_wallet(
            settings, authorization, error="access_denied", error_description="The citizen did not approve in time."
        )
    return _waiting_page(settings, authorization, browser)


@get("/openid4vci/approve/{handle:str}", opt=PUBLIC, include_in_schema=False)
async def approval_landing(handle: str) -> Response[str]:
    """Where the QR leads a phone without the app: how to approve. Says nothing about the handle."""
    return _html("approve_landing.html")


PAGE_ROUTES = [
    authorize,
    authorization_status,
    continue_to_wallet,
    approval_landing,
    create_static_files_router(
        path="/static/openid4vci", directories=[_HERE / "static"], opt=PUBLIC, name="openid4vci-static"
    ),
]
