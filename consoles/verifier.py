"""The verifier web app at ``/verify``: scan a QR, see a verdict; works offline (docs/consoles.md).

Online, what was scanned goes to the same verification as ``POST /v1/verifications``
(``documents.verification.check``) as the signed-in verifier officer, so the holder's
access log records it. Offline, the page verifies a ``VN2:`` payload itself against the
trust bundle its service worker cached (consoles/trust.py, static/verify-offline.js).
The page draws the holder's portrait, when disclosed, as a picture: the answer names the
type's portrait field. It also asks a wallet for chosen claims over OpenID4VP
(consoles/presentation_requests.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK

from consoles import presentation_requests
from consoles.pages import PAGE, page
from consoles.session import require_csrf
from consoles.trust import trust_bundle
from documents.guards import verifier
from documents.schemas import VerificationOut, VerifyRequest
from documents.types import get_type
from documents.verification import check
from wallet_api.kernel import PUBLIC, Caller, ValidationFailed

__all__ = ["ROLE", "ROUTES"]

ROLE = "verifier_agent"
_STATIC = Path(__file__).parent / "static"


class ScreenVerdict(VerificationOut, kw_only=True):
    """The API's verification answer, and which of its fields is the holder's portrait."""

    portrait: str | None = None


@get("/", guards=[verifier], opt=PAGE, include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template:
    return page(request, "verify.html", choices=presentation_requests.choices(), presets=presentation_requests.PRESETS)


@post("/check", guards=[verifier], include_in_schema=False, status_code=HTTP_200_OK)
async def verify_scanned(request: Request[Any, Any, Any], principal: Caller) -> ScreenVerdict:
    await require_csrf(request)
    try:
        data = msgspec.json.decode(await request.body(), type=VerifyRequest)
    except msgspec.DecodeError as exc:
        raise ValidationFailed(
            'Send {"payload": what was scanned}.', errors=[{"key": "payload", "message": str(exc)}]
        ) from None
    answer = await check(request.app.state, principal, data)
    doc_type = get_type(answer.document_type)
    return ScreenVerdict(**msgspec.structs.asdict(answer), portrait=doc_type.portrait if doc_type else None)


@get("/trust.json", guards=[verifier], include_in_schema=False)
async def trust(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    state = request.app.state
    body = await trust_bundle(state.services.pool, state.services.keys, state.services.settings)
    return Response(body, headers={"Cache-Control": "no-store"})


@get("/sw.js", opt=PUBLIC, include_in_schema=False, media_type="text/javascript")
async def service_worker() -> Response[bytes]:
    # Served from /verify/ so that its scope is the app's pages and nothing else.
    return Response((_STATIC / "sw.js").read_bytes(), headers={"Service-Worker-Allowed": "/verify"})


@get("/manifest.webmanifest", opt=PUBLIC, include_in_schema=False, media_type="application/manifest+json")
async def manifest() -> dict[str, Any]:
    return {
        "name": "Xác thực giấy tờ — Document verifier",
        "short_name": "Xác thực",
        "lang": "vi",
        "start_url": "/verify/",
        "scope": "/verify/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b3261e",
        "icons": [
            {"src": "/static/consoles/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/consoles/icon-512.png", "sizes": "512x512", "type": "image/png"},
        ],
    }


ROUTES = [home, verify_scanned, trust, service_worker, manifest, *presentation_requests.ROUTES]
