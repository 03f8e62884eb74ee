"""JSON request bodies: one decoder, with a nesting limit, for every route.

msgspec (and Python's own ``json``) decode nested arrays and objects recursively, so a body
of a few kilobytes nested ~1,000 levels deep raised ``RecursionError`` from inside the
framework (a 500), and values nested a little less deeply failed later, wherever the next
recursive encoder met them. No request of ours nests more than a handful of levels, so a
body deeper than :data:`MAX_DEPTH` is refused before it is decoded (400 ``json-too-deep``).
A string that is not UTF-8 is refused too (400 ``bad-request``): the decoders raise
``UnicodeDecodeError`` for it, not their own error, and it was answered as a 500.

Litestar decodes every ``data`` parameter through ``Request.json``: :class:`WalletRequest`
(the app's request class) puts the limit there; code that decodes a body itself (the direct
route-level middleware ``direct_json.py``, provider callbacks, JWS segments) calls :func:`decode`
or :func:`check_depth`.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar, overload

import msgspec
from litestar import Request

from wallet_api.problems import BadRequest

__all__ = ["MAX_DEPTH", "JsonTooDeep", "WalletRequest", "check_depth", "decode"]

T = TypeVar("T")

#: Deepest nesting of arrays and objects a request may send (documents nest about six).
MAX_DEPTH = 32

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")


class JsonTooDeep(BadRequest):
    slug, title = "json-too-deep", "JSON nested too deeply"

    def __init__(self) -> None:
        super().__init__(f"Arrays and objects may be nested at most {MAX_DEPTH} levels deep.")


def check_depth(body: bytes) -> None:
    """Raise :class:`JsonTooDeep` if ``body`` nests arrays/objects deeper than :data:`MAX_DEPTH`."""
    # Counting brackets is a memchr per byte value: a body with few of them cannot be too
    # deep, and that is every request on the hot paths. Only the others are walked.
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise JsonTooDeep
        else:
            depth -= 1


@overload
def decode(body: bytes) -> Any: ...
@overload
def decode(body: bytes, type: type[T]) -> T: ...
def decode(body: bytes, type: Any = Any) -> Any:
    """``msgspec.json.decode`` after the depth check (msgspec's own errors pass through)."""
    check_depth(body)
    try:
        return msgspec.json.decode(body, type=type)
    except UnicodeDecodeError:
        raise _not_utf8() from None


def _not_utf8() -> BadRequest:
    return BadRequest("The body is not valid UTF-8.")


class WalletRequest(Request[Any, Any, Any]):
    """Litestar's request, whose JSON body is depth-checked before it is decoded."""

    async def json(self) -> Any:
        check_depth(await self.body())  # the body is read once and kept by the request
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise _not_utf8() from None
