"""Realtime delivery across processes: two real API processes (``wallet serve``), the test
process acting as the worker that consumes the outbox and publishes to Redis.

An app connected to either API process gets the notice; an app that reconnects with
``Last-Event-ID`` (SSE) or ``since`` (WebSocket) gets what it missed from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
import websockets

from notifications import publish_realtime
from notifications.events import Notice
from notifications.realtime import encode_message, publish_realtime_many
from notifications.store import insert_notices
from tests.notifications.conftest import create_account, create_device, publish_event
from tests.support.ports import free_port
from tests.support.sse import open_stream, stream_events
from wallet_api.accounts.sessions import insert_session
from wallet_api.settings import Settings

READ_TIMEOUT = 15.0


@pytest.fixture
def citizen_headers(mint: Any, db: asyncpg.Pool) -> Callable[..., Any]:
    """A signed-in phone's headers: a device with a live session (streams need one, issue 14 item 2)."""

    async def _headers(account_id: uuid.UUID, **token: Any) -> dict[str, str]:
        device_id, _ = await create_device(db, account_id, platform=None)
        await insert_session(
            db, account_id=account_id, device_id=device_id, auth_time=int(time.time()), refresh_ttl_days=1
        )
        headers: dict[str, str] = await mint(
            kind="citizen",
            subject=str(account_id),
            level=2,
            device_id=str(device_id),
            auth_time=int(time.time()),
            **token,
        )
        return headers

    return _headers


@pytest.fixture(scope="module")
def api_urls(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two API processes on free ports, against the test database and Redis."""
    with _serve(settings, tmp_path_factory, 2) as urls:
        yield urls


@contextlib.contextmanager
def _serve(settings: Settings, tmp_path_factory: pytest.TempPathFactory, count: int) -> Iterator[list[str]]:
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    for i in range(count):
        port = free_port()
        data = tmp_path_factory.mktemp(f"api{i}")
        env = {
            **os.environ,
            "WALLET_ENV": "test",
            "WALLET_DATABASE_URL": settings.database_url,
            "WALLET_REDIS_URL": settings.redis_url,
            "WALLET_KEK": settings.kek,
            "WALLET_PUBLIC_BASE_URL": settings.public_base_url,
            "WALLET_DATA_DIR": str(data),
            "WALLET_METRICS_DIR": str(data / "metrics"),
            "WALLET_LOG_LEVEL": "WARNING",
        }
        cmd = [sys.executable, "-m", "wallet_api.cli", "serve", "--port", str(port), "--processes", "1"]
        procs.append(subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        for url, proc in zip(urls, procs, strict=True):
            while True:
                assert proc.poll() is None, "wallet serve exited"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                        break
                assert time.monotonic() < deadline, "wallet serve did not become ready"
                time.sleep(0.2)
        yield urls
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class SseReader:
    """Reads Server-Sent Events from a streaming httpx response."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()

    async def next(self) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            event: dict[str, Any] = {}
            async for line in self._lines:
                if line == "":
                    if "event" in event or "data" in event:
                        return event
                    event = {}
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                event[name] = value.removeprefix(" ")
            raise AssertionError("stream ended")

        event = await asyncio.wait_for(read(), READ_TIMEOUT)
        if "data" in event:
            event["data"] = json.loads(event["data"])
        return event


@contextlib.asynccontextmanager
async def sse(
    url: str, headers: dict[str, str], last_event_id: int | None = None
) -> AsyncIterator[tuple[SseReader, list[dict[str, Any]]]]:
    """An open stream once it is live, and what it replayed before saying so."""
    if last_event_id is not None:
        headers = {**headers, "Last-Event-ID": str(last_event_id)}
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(READ_TIMEOUT, read=None)) as http,
        http.stream("GET", f"{url}/v1/notifications/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = SseReader(response)
        replayed = []
        while (event := await reader.next())["event"] != "ready":
            replayed.append(event)
        yield reader, replayed


async def _issue(db: asyncpg.Pool, account: uuid.UUID, n: int = 1) -> None:
    for _ in range(n):
        await publish_event(
            db,
            "document.issued",
            {"account_id": str(account), "document_id": str(uuid.uuid4()), "doc_type": "driving_licence"},
        )


async def test_a_notice_from_the_worker_reaches_the_app_on_either_api_process(
    api_urls: list[str], db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db, language="en")
    headers = await citizen_headers(account)
    async with sse(api_urls[0], headers) as (on_first, _), sse(api_urls[1], headers) as (on_second, _):
        await _issue(db, account)
        await consume()  # this test process is the worker: it publishes to Redis
        entry = await db.fetchrow("SELECT id, seq FROM notifications WHERE account_id = $1", account)
        for reader in (on_first, on_second):
            event = await reader.next()
            assert event["event"] == "notification"
            assert event["id"] == str(entry["seq"])
            assert event["data"]["id"] == entry["id"]
            assert event["data"]["title"] == "New document"
            assert event["data"]["kind"] == "document.issued"


async def test_an_app_only_hears_its_own_account(
    api_urls: list[str], db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    mine, theirs = await create_account(db), await create_account(db)
    async with sse(api_urls[0], await citizen_headers(mine)) as (reader, _):
        await _issue(db, theirs)
        await _issue(db, mine)
        await consume()
        event = await reader.next()
        assert event["id"] == str(await db.fetchval("SELECT seq FROM notifications WHERE account_id = $1", mine))


async def test_sse_reconnect_with_last_event_id_catches_up_from_the_inbox(
    api_urls: list[str], db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db)
    headers = await citizen_headers(account)
    await _issue(db, account, 4)
    await consume()  # published while no app was connected: Redis drops it
    seqs = [
        r["seq"] for r in await db.fetch("SELECT seq FROM notifications WHERE account_id = $1 ORDER BY seq", account)
    ]
    assert seqs == [1, 2, 3, 4]

    async with sse(api_urls[1], headers, last_event_id=seqs[0]) as (reader, caught_up):
        assert [int(e["id"]) for e in caught_up] == seqs[1:]
        assert all(e["event"] == "notification" for e in caught_up)
        # Then live, with nothing repeated.
        await _issue(db, account)
        await consume()
        live = await reader.next()
        assert int(live["id"]) == 5


async def test_websocket_catches_up_with_since_then_streams_live(
    api_urls: list[str], db: asyncpg.Pool, redis: aioredis.Redis, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db, language="vi")
    headers = await citizen_headers(account)
    await _issue(db, account, 2)
    await consume()
    first = await db.fetchval("SELECT min(seq) FROM notifications WHERE account_id = $1", account)
    token = headers["Authorization"].removeprefix("Bearer ")
    url = api_urls[0].replace("http://", "ws://") + f"/v1/notifications/ws?since={first}"
    async with websockets.connect(url, subprotocols=[f"bearer.{token}", "wallet.v1"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "wallet.v1"

        async def receive() -> dict[str, Any]:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), READ_TIMEOUT))
            return message

        missed = await receive()
        assert missed["event"] == "notification" and missed["id"] > first
        assert missed["data"]["title"] == "Giấy tờ mới"
        assert (await receive())["event"] == "ready"
        await _issue(db, account)
        await consume()
        live = await receive()
        assert live["event"] == "notification" and live["id"] > missed["id"]
        # Transient messages from any process (publish_realtime) arrive too, without an id.
        await publish_realtime(redis, account, "wallet.link_progress", {"step": "awaiting_otp"})
        transient = await receive()
        assert transient == {"id": None, "event": "wallet.link_progress", "data": {"step": "awaiting_otp"}}


async def test_websocket_without_a_token_is_refused(api_urls: list[str]) -> None:
    url = api_urls[1].replace("http://", "ws://") + "/v1/notifications/ws"
    with pytest.raises(websockets.exceptions.WebSocketException):
        async with websockets.connect(url) as ws:
            await asyncio.wait_for(ws.recv(), READ_TIMEOUT)


async def test_reading_marks_reach_the_other_devices(
    api_urls: list[str], db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db)
    headers = await citizen_headers(account)
    await _issue(db, account, 2)
    await consume()
    async with sse(api_urls[0], headers) as (other_phone, _), httpx.AsyncClient(base_url=api_urls[1]) as this_phone:
        r = await this_phone.post("/v1/notifications/read-all", headers=headers)
        assert r.status_code == 200
        event = await other_phone.next()
        assert event["event"] == "inbox.read"
        assert event["data"]["unread"] == 0


async def _raw_sse(url: str, token: str, ready: asyncio.Event, on_message: Callable[[dict[str, Any]], None]) -> None:
    """A bare-socket SSE app (hundreds of httpx clients would cost the test more than the server)."""
    host, port = url.removeprefix("http://").split(":")
    status, reader, writer = await open_stream(host, int(port), token)
    try:
        assert b" 200 " in status, status
        async for block in stream_events(reader):
            if b"event: ready" in block:
                ready.set()
            for line in block.split(b"\n"):
                if line.startswith(b"data: ") and b"bench.check" in block:
                    on_message(json.loads(line[6:]))
    finally:
        writer.close()


async def _pubsub_clients(redis: aioredis.Redis) -> int:
    clients = await redis.client_list()
    return sum(1 for c in clients if int(c.get("sub", 0)) > 0)


@pytest.mark.slow
async def test_a_fresh_process_holds_hundreds_of_streams_opened_at_once_on_one_redis_connection(
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    citizen_headers: Any,
) -> None:
    """Regression: streams opened at once on a process that had no subscription yet (after
    a deploy, every app reconnects) raced redis-py into one Redis connection per stream;
    past its pool limit (100) new streams failed, and the others heard nothing."""
    n = 300
    accounts = [await create_account(db) for _ in range(n)]
    tokens = [(await citizen_headers(a))["Authorization"].removeprefix("Bearer ") for a in accounts]
    readies = [asyncio.Event() for _ in accounts]
    received: list[list[dict[str, Any]]] = [[] for _ in accounts]
    all_received = asyncio.Event()

    def collector(box: list[dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
        def on_message(message: dict[str, Any]) -> None:
            box.append(message)
            if sum(map(len, received)) >= n:
                all_received.set()

        return on_message

    with _serve(settings, tmp_path_factory, 1) as (url,):
        subscribed_before = await _pubsub_clients(redis)
        tasks = [
            asyncio.create_task(_raw_sse(url, token, ready, collector(box)))
            for token, ready, box in zip(tokens, readies, received, strict=True)
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
            # Every stream shares the process's one subscribed connection.
            assert await _pubsub_clients(redis) == subscribed_before
            for i, account in enumerate(accounts):
                await publish_realtime(redis, account, "bench.check", {"n": i})
            await asyncio.wait_for(all_received.wait(), 30)
            assert received == [[{"n": i}] for i in range(n)]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_after_losing_redis_a_stream_catches_up_from_the_inbox(
    api_urls: list[str], db: asyncpg.Pool, redis: aioredis.Redis, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db, language="en")
    async with sse(api_urls[0], await citizen_headers(account)) as (reader, _):
        # An entry whose realtime message was lost (as if published while Redis was away).
        async with db.acquire() as conn, conn.transaction():
            await insert_notices(
                conn, [Notice(account, "account.level_raised", "account", {"level": 2}, None, None, "lost")]
            )
        lost = await db.fetchval("SELECT id FROM notifications WHERE account_id = $1", account)
        # Redis drops every subscribed connection; the API process reconnects and resynchronises.
        await redis.client_kill_filter(_type="pubsub")
        event = await reader.next()
        assert event["event"] == "notification" and event["data"]["id"] == lost
        # And the subscription is live again.
        await _issue(db, account)
        await consume()
        event = await reader.next()
        assert event["event"] == "notification" and event["data"]["kind"] == "document.issued"


async def test_live_messages_published_out_of_order_reach_the_app_in_seq_order(
    api_urls: list[str], db: asyncpg.Pool, redis: aioredis.Redis, citizen_headers: Any
) -> None:
    """Two workers commit entries 1 and 2 in that order but publish them the other way
    round. The app must get 1 before 2 (else, resuming after 2, it would never get 1)."""
    account = await create_account(db, language="en")
    async with sse(api_urls[0], await citizen_headers(account)) as (reader, _):
        for key in ("one", "two"):
            async with db.acquire() as conn, conn.transaction():
                await insert_notices(
                    conn, [Notice(account, "account.level_raised", "account", {"level": 2}, None, None, key)]
                )
        rows = await db.fetch("SELECT id, seq FROM notifications WHERE account_id = $1 ORDER BY seq", account)
        # Entry 2's message arrives first: the stream reads entry 1 from the inbox before it.
        await publish_realtime_many(
            redis, [(account, encode_message("notification", {"id": rows[1]["id"]}, message_id=2))]
        )
        assert [(await reader.next())["id"] for _ in range(2)] == ["1", "2"]
        # Entry 1's late message is not sent again; what comes next is the next message.
        await publish_realtime_many(
            redis, [(account, encode_message("notification", {"id": rows[0]["id"]}, message_id=1))]
        )
        await publish_realtime(redis, account, "wallet.link_progress", {"step": "done"})
        assert (await reader.next())["event"] == "wallet.link_progress"


async def test_a_cursor_beyond_the_inbox_makes_the_app_reload_and_hides_nothing(
    api_urls: list[str], db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db)
    await _issue(db, account)
    await consume()
    async with sse(api_urls[0], await citizen_headers(account), last_event_id=999) as (reader, before_ready):
        assert [(e["event"], e["data"]) for e in before_ready] == [("inbox.resync", {"latest_seq": 1})]
        await _issue(db, account)
        await consume()
        assert (await reader.next())["id"] == "2"


# Streams end with their session (issue 14, item 2): at token expiry, on device revocation,
# sign-out and sign-out-everywhere, whichever API process the stream and the request are on.


def jwt_claims(headers: dict[str, str]) -> dict[str, Any]:
    import jwt

    token = headers["Authorization"].removeprefix("Bearer ")
    return dict(jwt.decode(token, options={"verify_signature": False}))


async def _ended(reader: SseReader) -> str:
    """The reason of the stream's last frame; the stream must then end."""
    event = await reader.next()
    while event["event"] != "session.ended":
        event = await reader.next()
    with pytest.raises(AssertionError, match="stream ended"):
        await reader.next()
    return str(event["data"]["reason"])


async def test_sign_out_everywhere_on_one_process_ends_the_streams_on_the_other(
    api_urls: list[str], db: asyncpg.Pool, citizen_headers: Any
) -> None:
    account = await create_account(db)
    phone, tablet = await citizen_headers(account), await citizen_headers(account)
    async with sse(api_urls[0], phone) as (on_phone, _), sse(api_urls[0], tablet) as (on_tablet, _):
        async with httpx.AsyncClient(base_url=api_urls[1]) as http:
            assert (await http.post("/v1/auth/sign-out-everywhere", headers=phone)).status_code == 204
        assert await _ended(on_phone) == "revoked"
        assert await _ended(on_tablet) == "revoked"


async def test_revoking_a_device_ends_its_stream_and_only_its_stream(
    api_urls: list[str], db: asyncpg.Pool, redis: aioredis.Redis, citizen_headers: Any
) -> None:
    account = await create_account(db)
    lost, new = await citizen_headers(account), await citizen_headers(account)
    async with sse(api_urls[0], lost) as (on_lost, _), sse(api_urls[1], new) as (on_new, _):
        async with httpx.AsyncClient(base_url=api_urls[1]) as http:
            r = await http.delete(f"/v1/devices/{jwt_claims(lost)['dev']}", headers=new)
            assert r.status_code == 204, r.text
        assert await _ended(on_lost) == "revoked"
        await publish_realtime(redis, account, "still.here", {})
        assert (await on_new.next())["event"] == "still.here"


async def test_signing_out_ends_this_devices_stream(
    api_urls: list[str], db: asyncpg.Pool, redis: aioredis.Redis, citizen_headers: Any
) -> None:
    account = await create_account(db)
    phone, tablet = await citizen_headers(account), await citizen_headers(account)
    async with sse(api_urls[1], phone) as (on_phone, _), sse(api_urls[0], tablet) as (on_tablet, _):
        async with httpx.AsyncClient(base_url=api_urls[0]) as http:
            assert (await http.post("/v1/auth/sign-out", headers=phone)).status_code == 204
        assert await _ended(on_phone) == "revoked"
        await publish_realtime(redis, account, "still.here", {})
        assert (await on_tablet.next())["event"] == "still.here"


async def test_a_stream_ends_when_its_token_expires(
    api_urls: list[str], db: asyncpg.Pool, app: Any, citizen_headers: Any
) -> None:
    account = await create_account(db)
    headers = await citizen_headers(account)
    claims = jwt_claims(headers)
    from wallet_api.auth.principal import Principal

    short, _ = await app.state.services.tokens.issue(
        Principal(
            kind="citizen", subject=str(account), level=2, device_id=claims["dev"], auth_time=claims["auth_time"]
        ),
        ttl_seconds=2,
    )
    async with sse(api_urls[0], {"Authorization": f"Bearer {short}"}) as (reader, _):
        assert await _ended(reader) == "expired"


async def test_a_stream_cannot_open_after_sign_out_with_a_token_still_unexpired(
    api_urls: list[str], db: asyncpg.Pool, citizen_headers: Any
) -> None:
    account = await create_account(db)
    headers = await citizen_headers(account)
    async with httpx.AsyncClient(base_url=api_urls[0]) as http:
        assert (await http.post("/v1/auth/sign-out", headers=headers)).status_code == 204
        assert (await http.get("/v1/notifications", headers=headers)).status_code == 200  # the token itself is valid
        r = await http.get("/v1/notifications/stream", headers=headers)
        assert r.status_code == 401 and r.json()["type"].endswith("/session-ended")
    token = headers["Authorization"].removeprefix("Bearer ")
    url = api_urls[1].replace("http://", "ws://") + "/v1/notifications/ws"
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(url, subprotocols=[f"bearer.{token}"]) as ws:  # type: ignore[list-item]
            await asyncio.wait_for(ws.recv(), READ_TIMEOUT)


async def test_a_websocket_is_closed_when_its_device_is_revoked(
    api_urls: list[str], db: asyncpg.Pool, citizen_headers: Any
) -> None:
    account = await create_account(db)
    lost, new = await citizen_headers(account), await citizen_headers(account)
    token = lost["Authorization"].removeprefix("Bearer ")
    url = api_urls[0].replace("http://", "ws://") + "/v1/notifications/ws"
    async with websockets.connect(url, subprotocols=[f"bearer.{token}"]) as ws:  # type: ignore[list-item]
        assert json.loads(await asyncio.wait_for(ws.recv(), READ_TIMEOUT))["event"] == "ready"
        async with httpx.AsyncClient(base_url=api_urls[1]) as http:
            assert (await http.delete(f"/v1/devices/{jwt_claims(lost)['dev']}", headers=new)).status_code == 204
        ended = json.loads(await asyncio.wait_for(ws.recv(), READ_TIMEOUT))
        assert ended == {"id": None, "event": "session.ended", "data": {"reason": "revoked"}}
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), READ_TIMEOUT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
