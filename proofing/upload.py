"""The size limit of a chip upload, refused with its own problem type.

Litestar stops reading a body over the route's ``request_max_body_size`` (from the
announced length, or as the bytes arrive) and raises ``RequestEntityTooLarge``; this
route-level handler turns that into ``chip-upload-too-large`` instead of the generic
``payload-too-large``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from proofing.chip import ChipRefused
from proofing.schemas import MAX_UPLOAD_BYTES
from wallet_api.kernel import problem_response

__all__ = ["UPLOAD_LIMITS"]


def _too_large(request: Request[Any, Any, Any], _: RequestEntityTooLarge) -> Response[Any]:
    refusal = ChipRefused(
        "chip-upload-too-large", f"A chip upload is at most {MAX_UPLOAD_BYTES} bytes.", limit=MAX_UPLOAD_BYTES
    )
    return problem_response(refusal, request)


#: Keyword arguments for a route that takes a chip upload.
UPLOAD_LIMITS: dict[str, Any] = {
    "request_max_body_size": MAX_UPLOAD_BYTES,
    "exception_handlers": {RequestEntityTooLarge: _too_large},
}
