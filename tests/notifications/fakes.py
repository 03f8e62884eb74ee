"""Local fake services speaking the real protocols, for channel tests.

``FakeFcm`` serves FCM HTTP v1 and its OAuth2 token endpoint over HTTP/1.1 (uvicorn);
``FakeApns`` serves APNs over HTTP/2 with prior knowledge (h2c), written on the ``h2``
state machine, so the adapter's HTTP/2 path is exercised for real. Each device token's
behaviour is chosen by the test: ``ok``, ``gone``, ``down`` (503) or ``bad`` (400). ``FakeSendingApi``
serves the plain HTTP contract of our SMS gateway and mail service, answering each
destination with the status the test chose.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import jwt
import uvicorn


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


async def _body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


@dataclass
class FakeFcm:
    public_key_pem: str
    project_id: str
    behaviour: dict[str, str] = field(default_factory=dict)
    sends: list[Seen] = field(default_factory=list)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    issued: set[str] = field(default_factory=set)
    url: str = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await _body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if scope["path"] == "/token":
            status, payload = self._token(body)
        else:
            status, payload = self._send(scope["path"], headers, body)
        raw = json.dumps(payload).encode()
        extra = [(b"retry-after", b"30")] if status == 503 else []
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": raw})

    def _token(self, body: bytes) -> tuple[int, dict[str, Any]]:
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(
                form["assertion"], self.public_key_pem, algorithms=["RS256"], audience=f"{self.url}/token"
            )
        except jwt.PyJWTError:
            return 400, {"error": "invalid_grant"}
        self.assertions.append(claims)
        token = f"ya29.fake-{len(self.issued)}"
        self.issued.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _send(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if path != f"/v1/projects/{self.project_id}/messages:send":
            return 404, {"error": {"code": 404, "status": "NOT_FOUND"}}
        if headers.get("authorization", "").removeprefix("Bearer ") not in self.issued:
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        message = json.loads(body)
        self.sends.append(Seen(path, headers, message))
        kind = self.behaviour.get(message["message"]["token"], "ok")
        if kind == "gone":
            return 404, {
                "error": {
                    "code": 404,
                    "status": "NOT_FOUND",
                    "details": [
                        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}
                    ],
                }
            }
        if kind == "down":
            return 503, {"error": {"code": 503, "status": "UNAVAILABLE"}}
        if kind == "bad":
            return 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}}
        return 200, {"name": f"projects/{self.project_id}/messages/{len(self.sends)}"}


@dataclass
class FakeSendingApi:
    """A plain HTTP sending API (our SMS gateway and mail service contracts): each request is
    recorded, and answered with the status the test chose for its ``to`` (200 otherwise)."""

    status: dict[str, int] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    url: str = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await _body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        seen = Seen(scope["path"], headers, json.loads(body))
        self.requests.append(seen)
        status = self.status.get(str(seen.body.get("to")), 200)
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": b"{}"})


def refusing_url() -> str:
    """A local port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/send"


@contextlib.asynccontextmanager
async def serve_http(fake: Any) -> AsyncIterator[Any]:
    """Serve the ASGI ``fake`` on a free local port (its ``url`` is set before it starts)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(fake, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):  # uvicorn offers no event for "listening"; poll its flag
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield fake
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def serve_fcm(fake: FakeFcm) -> AsyncIterator[FakeFcm]:
    async with serve_http(fake):
        yield fake


@dataclass
class FakeApns:
    public_key_pem: str
    behaviour: dict[str, str] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        try:
            while data := await reader.read(65535):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        streams[event.stream_id] = ({str(k): str(v) for k, v in event.headers}, bytearray())
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id][1].extend(event.data)
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        headers, body = streams.pop(event.stream_id)
                        self._respond(conn, event.stream_id, headers, bytes(body))
                writer.write(conn.data_to_send())
                await writer.drain()
        finally:
            writer.close()

    def _respond(self, conn: h2.connection.H2Connection, stream_id: int, headers: dict[str, str], body: bytes) -> None:
        self.requests.append(Seen(headers[":path"], headers, json.loads(body or b"{}")))
        token = headers[":path"].removeprefix("/3/device/")
        try:
            claims = jwt.decode(
                headers.get("authorization", "").removeprefix("bearer "), self.public_key_pem, algorithms=["ES256"]
            )
            authorised = "iss" in claims and "iat" in claims
        except jwt.PyJWTError:
            authorised = False
        kind = self.behaviour.get(token, "ok")
        reply: dict[str, object]
        if not authorised:
            status, reply = 403, {"reason": "InvalidProviderToken"}
        elif headers[":method"] != "POST" or not headers.get("apns-topic"):
            status, reply = 400, {"reason": "MissingTopic"}
        elif kind == "gone":
            status, reply = 410, {"reason": "Unregistered", "timestamp": 1700000000000}
        elif kind == "down":
            status, reply = 503, {"reason": "ServiceUnavailable"}
        elif kind == "bad":
            status, reply = 400, {"reason": "PayloadTooLarge"}
        else:
            status, reply = 200, {}
        raw = json.dumps(reply).encode() if reply else b""
        conn.send_headers(
            stream_id,
            [
                (":status", str(status)),
                ("apns-id", "00000000-0000-0000-0000-000000000001"),
                ("content-length", str(len(raw))),
            ],
            end_stream=not raw,
        )
        if raw:
            conn.send_data(stream_id, raw, end_stream=True)


@contextlib.asynccontextmanager
async def serve_apns(fake: FakeApns) -> AsyncIterator[FakeApns]:
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield fake
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)
