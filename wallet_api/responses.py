"""Responses shared by routes that answer both GET and HEAD (published keys, status lists)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.enums import HttpMethod

__all__ = ["GET_AND_HEAD", "body_or_head"]

#: ``http_method`` of a route that also answers HEAD: verifiers check an ``ETag`` or
#: ``Cache-Control`` without downloading the document.
GET_AND_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


def body_or_head(
    request: Request[Any, Any, Any], content: bytes, *, media_type: str, headers: dict[str, str], status_code: int = 200
) -> Response[bytes]:
    """``content`` for GET; for HEAD the same headers (``Content-Length`` included) and no body."""
    if request.method != HttpMethod.HEAD:
        return Response(content, media_type=media_type, headers=headers, status_code=status_code)
    return Response(
        b"",
        media_type=media_type,
        headers={**headers, "Content-Length": str(len(content))},
        status_code=status_code,
    )
