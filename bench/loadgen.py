"""A small closed-loop HTTP/1.1 load generator for our benchmarks.

Each connection is a raw keep-alive socket that sends one request, reads the whole
response, and sends the next, so the measured rate is what the server sustains at that
concurrency. Requests come from a factory, which lets a benchmark build each request
(sign a challenge, use a fresh one-time code) while the clock runs. Pure asyncio with no
HTTP client library: the generator must cost far less CPU than the server it measures.

Usage from a benchmark::

    result = await run_load("127.0.0.1", 8000, lambda i: Request("GET", "/health/live"),
                            connections=32, duration=10)
    print(result.summary())
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LoadResult", "Request", "Response", "run_load"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(cls, method: str, path: str, payload: Any, headers: dict[str, str] | None = None) -> Request:
        return cls(method, path, {"content-type": "application/json", **(headers or {})}, json.dumps(payload).encode())

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"host: {host}", f"content-length: {len(self.body)}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LoadResult:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "rate_per_s": round(self.rate),
            "p50_ms": round(self.percentile(50) * 1000, 2),
            "p99_ms": round(self.percentile(99) * 1000, 2),
            "statuses": self.statuses,
        }


async def _read_response(reader: asyncio.StreamReader) -> Response:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        body = b""
    return Response(status, headers, body)


RequestFactory = Callable[[int], "Request | Awaitable[Request]"]
ResponseCheck = Callable[[Response], "bool | Awaitable[bool]"]


async def run_load(
    host: str,
    port: int,
    make_request: RequestFactory,
    *,
    connections: int = 32,
    duration: float = 10.0,
    max_requests: int | None = None,
    warmup: float = 1.0,
    name: str = "load",
    check: ResponseCheck | None = None,
) -> LoadResult:
    """Run a closed loop for ``duration`` seconds (after ``warmup``), bounded by ``max_requests``."""
    counter = 0
    measured = 0
    errors = 0
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def one_connection() -> None:
        nonlocal counter, measured, errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at and (max_requests is None or measured < max_requests):
                counter += 1
                req = make_request(counter)
                if isinstance(req, Awaitable):
                    req = await req
                t0 = time.perf_counter()
                writer.write(req.encode(host))
                resp = await _read_response(reader)
                t1 = time.perf_counter()
                ok = resp.status < 400
                if check is not None:
                    verdict = check(resp)
                    ok = bool(await verdict) if isinstance(verdict, Awaitable) else bool(verdict)
                if t0 >= measure_from:
                    measured += 1
                    latencies.append(t1 - t0)
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                    if not ok:
                        errors += 1
                if resp.headers.get("connection") == "close":
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    elapsed = min(time.perf_counter(), stop_at) - measure_from
    return LoadResult(name, measured, errors, max(elapsed, 1e-9), latencies, statuses)
