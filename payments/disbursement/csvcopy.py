"""CSV uploads streamed into PostgreSQL's COPY, with no line able to end the data early.

In COPY's CSV format a line holding only ``\\.`` is the end-of-data marker: every row after
it was dropped and the upload still answered 201. Quoted, ``\\.`` is data, so such a line is
passed on as a row whose first column is ``\\.`` and whose other columns are empty; the
domain then judges and reports it like any other malformed row.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator

__all__ = ["quote_end_markers"]

_END_MARKER_LINE = re.compile(rb"^\\\.(\r?)$", re.MULTILINE)


async def quote_end_markers(chunks: AsyncIterable[bytes], columns: int) -> AsyncIterator[bytes]:
    """``chunks`` of CSV with every line that is only ``\\.`` made a row of ``columns`` columns."""
    as_row = b'"\\\\."' + b"," * (columns - 1) + rb"\1"

    def quoted(lines: bytes) -> bytes:
        return _END_MARKER_LINE.sub(as_row, lines) if b"\\." in lines else lines

    carry = b""  # the last, unfinished line: a marker may be split across two chunks
    async for chunk in chunks:
        lines, newline, rest = (carry + chunk).rpartition(b"\n")
        if newline:
            yield quoted(lines + newline)
        carry = rest
    if carry:
        yield quoted(carry)
