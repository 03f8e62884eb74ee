"""``Cache-Control: no-store`` on every HTTP response that does not say otherwise.

Token responses must not be stored by any cache (RFC 6749 §5.1), and most answers carry
personal data (a citizen's documents, inbox, payments; verified fields). Rather than have
each such route remember it, the rule is the other way round: a route whose answer may be
cached *declares* it by setting its own ``Cache-Control`` (the published keys, status
lists, document types and schemas); every other answer, errors included and whichever path
served it (Litestar or the direct path), leaves with ``no-store``.

Applied by the outermost layer (``observability/middleware.py``), which already rewrites
every response's headers: a layer of its own cost more per request than the check.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["no_store_by_default"]

_NAME = b"cache-control"
_NO_STORE = (_NAME, b"no-store")


def no_store_by_default(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``Cache-Control: no-store`` added unless they carry a Cache-Control."""
    listed = list(headers)
    for name, _ in listed:
        if name.lower() == _NAME:
            return listed
    listed.append(_NO_STORE)
    return listed
