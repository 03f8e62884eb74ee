"""A bare-socket client of the notification stream, cheap enough to hold hundreds at once.

Tests and the notifications benchmark open many streams; an httpx client each would cost
them more than the server. The server answers in chunked HTTP/1.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

__all__ = ["open_stream", "stream_events"]


async def open_stream(
    host: str, port: int, token: str, path: str = "/v1/notifications/stream"
) -> tuple[bytes, asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect and ask for the stream: the answer's status line, and the open connection."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {token}\r\n"
        "accept: text/event-stream\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], reader, writer


async def stream_events(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """Each event of the body (its lines joined by ``\\n``, without the blank line), until the body ends."""
    buffer = b""
    while True:
        size = int((await reader.readline()).strip() or b"0", 16)
        if size == 0:
            return
        buffer += (await reader.readexactly(size)).replace(b"\r\n", b"\n")
        await reader.readexactly(2)
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            yield event
