"""The citizen's notifications API: inbox, preferences, push token, and the realtime feed.

Every route is for a signed-in citizen and touches only the caller's own account (the
account id comes from the token, never from the request).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Request, WebSocket, delete, get, post, put, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromQuery, HeaderParameter, JSONBody, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from notifications import preferences, store
from notifications.feed import StreamSession, feed
from notifications.metrics import REALTIME_CONNECTIONS
from notifications.realtime import publish_realtime
from notifications.schemas import (
    BIGINT_MAX,
    CategoryPreferenceView,
    InboxPage,
    MarkAllRead,
    MarkedRead,
    NotificationView,
    PreferencesUpdate,
    PreferencesView,
    PushTokenBody,
    UnreadCount,
)
from notifications.templates import CATEGORIES
from wallet_api.accounts.sessions import session_alive
from wallet_api.kernel import (
    BadRequest,
    Caller,
    Db,
    NotFound,
    Principal,
    RedisClient,
    Unauthorized,
    ValidationFailed,
    citizen,
    principal_of,
)

__all__ = ["ROUTES"]

_TAGS = ["notifications"]
NotificationId = Annotated[int, Parameter(ge=1, le=BIGINT_MAX)]
_RETRY_MS = 3000


def _account(principal: Principal) -> uuid.UUID:
    return uuid.UUID(principal.subject)


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        cursor = int(value)
    except ValueError:
        raise BadRequest(
            "The cursor is not one this API returned.", slug="invalid-cursor", title="Invalid cursor"
        ) from None
    if not 0 <= cursor <= BIGINT_MAX:
        raise BadRequest("The cursor is not one this API returned.", slug="invalid-cursor", title="Invalid cursor")
    return cursor


@get("/v1/notifications", guards=[citizen], tags=_TAGS, summary="The inbox, newest first")
async def list_inbox(
    principal: Caller,
    db: Db,
    cursor: FromQuery[str | None] = None,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    unread_only: FromQuery[bool] = False,
) -> InboxPage:
    account_id = _account(principal)
    language = await store.account_language(db, account_id)
    rows = await store.page(db, account_id, before=_cursor(cursor), limit=limit + 1, unread_only=unread_only)
    more = len(rows) > limit
    rows = rows[:limit]
    return InboxPage(
        items=[store.view_of(r, language) for r in rows],
        next_cursor=str(rows[-1]["seq"]) if more else None,
        unread=await store.unread_count(db, account_id),
    )


@get("/v1/notifications/unread-count", guards=[citizen], tags=_TAGS, summary="How many entries are unread")
async def unread(principal: Caller, db: Db) -> UnreadCount:
    return UnreadCount(unread=await store.unread_count(db, _account(principal)))


@get("/v1/notifications/{notification_id:int}", guards=[citizen], tags=_TAGS, summary="One inbox entry")
async def get_notification(principal: Caller, db: Db, notification_id: NotificationId) -> NotificationView:
    account_id = _account(principal)
    row = await store.get_one(db, account_id, notification_id)
    if row is None:
        raise NotFound("No such notification.")
    return store.view_of(row, await store.account_language(db, account_id))


async def _tell_other_devices(redis: Any, db: Db, account_id: uuid.UUID, event: str, data: dict[str, Any]) -> None:
    data["unread"] = await store.unread_count(db, account_id)
    await publish_realtime(redis, account_id, event, data)


@post(
    "/v1/notifications/{notification_id:int}/read",
    guards=[citizen],
    tags=_TAGS,
    summary="Mark one entry read",
    status_code=HTTP_204_NO_CONTENT,
)
async def mark_read(principal: Caller, db: Db, redis: RedisClient, notification_id: NotificationId) -> None:
    account_id = _account(principal)
    if not await store.mark_read(db, account_id, notification_id):
        raise NotFound("No such notification.")
    await _tell_other_devices(redis, db, account_id, "inbox.read", {"ids": [notification_id]})


@post(
    "/v1/notifications/read-all",
    guards=[citizen],
    tags=_TAGS,
    summary="Mark every entry (up to an id) read",
    status_code=HTTP_200_OK,
)
async def mark_all_read(
    principal: Caller, db: Db, redis: RedisClient, data: JSONBody[MarkAllRead | None] = None
) -> MarkedRead:
    account_id = _account(principal)
    up_to = data.up_to if data is not None else None
    marked = await store.mark_all_read(db, account_id, up_to)
    left = await store.unread_count(db, account_id)
    await publish_realtime(redis, account_id, "inbox.read", {"up_to": up_to, "unread": left})
    return MarkedRead(marked=marked, unread=left)


@delete("/v1/notifications/{notification_id:int}", guards=[citizen], tags=_TAGS, summary="Delete one entry")
async def delete_notification(principal: Caller, db: Db, redis: RedisClient, notification_id: NotificationId) -> None:
    account_id = _account(principal)
    if not await store.delete(db, account_id, notification_id):
        raise NotFound("No such notification.")
    await _tell_other_devices(redis, db, account_id, "inbox.deleted", {"ids": [notification_id]})


async def _preferences_view(db: Db, account_id: uuid.UUID) -> PreferencesView:
    language = await store.account_language(db, account_id)
    loaded = await preferences.load(db, [account_id])
    chosen = preferences.chosen(loaded.get(account_id, {}))
    return PreferencesView(
        language=language,
        categories=[
            CategoryPreferenceView(
                category=code,
                name=cat.names[language],
                mandatory=cat.mandatory,
                push=chosen[code].get("push", False),
                sms=chosen[code].get("sms", False),
            )
            for code, cat in CATEGORIES.items()
        ],
        channels=chosen,
    )


@get("/v1/notifications/preferences", guards=[citizen], tags=_TAGS, summary="Language and channels per category")
async def get_preferences(principal: Caller, db: Db) -> PreferencesView:
    return await _preferences_view(db, _account(principal))


def _choices(update: PreferencesUpdate) -> dict[tuple[str, str], bool]:
    """The rows to write, checked against the categories and the registered channels."""
    errors = []
    choices: dict[tuple[str, str], bool] = {}
    for code, wanted in update.categories.items():
        cat = CATEGORIES.get(code)
        if cat is None:
            errors.append({"key": f"categories.{code}", "source": "body", "message": "unknown category"})
            continue
        unknown = sorted(set(wanted) - set(preferences.PREFERENCES))
        errors.extend(
            {"key": f"categories.{code}.{p}", "source": "body", "message": "unknown channel"} for p in unknown
        )
        if any(not wanted.get(p, True) for p in preferences.forced(cat)):
            errors.append(
                {"key": f"categories.{code}", "source": "body", "message": "security notices cannot be turned off"}
            )
        elif not unknown:
            # A forced preference is on whatever a row says: only the others are stored.
            choices.update({(code, p): on for p, on in wanted.items() if p not in preferences.forced(cat)})
    if errors:
        raise ValidationFailed("Some categories cannot be changed.", slug="notification-preferences", errors=errors)
    return choices


@put("/v1/notifications/preferences", guards=[citizen], tags=_TAGS, summary="Change language or channels")
async def put_preferences(principal: Caller, db: Db, data: JSONBody[PreferencesUpdate]) -> PreferencesView:
    account_id = _account(principal)
    choices = _choices(data)
    async with db.acquire() as conn, conn.transaction():
        if data.language is not None:
            await store.set_language(conn, account_id, data.language)
        await preferences.save(conn, account_id, choices)
    return await _preferences_view(db, account_id)


@put(
    "/v1/notifications/push-token",
    guards=[citizen],
    tags=_TAGS,
    summary="Register this device's push token",
    status_code=HTTP_204_NO_CONTENT,
)
async def put_push_token(principal: Caller, db: Db, data: JSONBody[PushTokenBody]) -> None:
    if principal.device_id is None:
        raise BadRequest("Only a bound device can receive push notifications.", slug="device-required")
    # A token identifies one app install: if another device row held it (a reinstall),
    # that row loses it, so one install never gets a message twice.
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE devices SET push_token = NULL WHERE push_token = $1 AND push_platform = $2 AND id <> $3",
            data.token,
            data.platform,
            uuid.UUID(principal.device_id),
        )
        updated = await conn.fetchval(
            """UPDATE devices SET push_platform = $3, push_token = $4, last_seen_at = now()
               WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL RETURNING id""",
            uuid.UUID(principal.device_id),
            uuid.UUID(principal.subject),
            data.platform,
            data.token,
        )
        if updated is None:
            raise NotFound("This device is not bound to your account.", slug="device-not-found")


def _since(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        since = int(value)
    except ValueError:
        raise BadRequest(
            f"{name} must be the seq of an inbox entry.", slug="invalid-cursor", title="Invalid cursor"
        ) from None
    return min(max(0, since), BIGINT_MAX)


@get(
    "/v1/notifications/stream",
    guards=[citizen],
    tags=[*_TAGS, "stream"],
    summary="Server-Sent Events: new inbox entries as they happen (resume with Last-Event-ID)",
)
async def stream(
    request: Request[Any, Any, Any],
    db: Db,
    channels: NamedDependency[ChannelsPlugin],
    last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
    since: FromQuery[str | None] = None,
) -> ServerSentEvent:
    account_id = _account(principal_of(request))
    after = _since(last_event_id, "Last-Event-ID") if last_event_id else _since(since, "since")
    session = await _live_session(request, db)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        REALTIME_CONNECTIONS.labels("sse").inc()
        try:
            async for frame in feed(db, channels, account_id, after, session):
                if frame is None:
                    yield ServerSentEventMessage(comment="keep-alive")
                else:
                    data = json.dumps(frame.data, ensure_ascii=False, default=str)
                    retry = _RETRY_MS if frame.event == "ready" else None
                    yield ServerSentEventMessage(data=data, event=frame.event, id=frame.id, retry=retry)
        finally:
            REALTIME_CONNECTIONS.labels("sse").dec()

    return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


#: WebSocket close code when the session ends (token expired, signed out, device revoked).
SESSION_ENDED_CLOSE = 4401


async def _live_session(connection: Request[Any, Any, Any] | WebSocket[Any, Any, Any], db: Db) -> StreamSession:
    """The stream's session, refused (401 ``session-ended``) if it has already ended."""
    p = principal_of(connection)

    async def alive() -> bool:
        return await session_alive(db, p)

    if not await alive():
        raise Unauthorized(
            "This session has ended (signed out or device revoked); sign in again.",
            slug="session-ended",
            title="Session ended",
        )
    return StreamSession(device_id=p.device_id or "", expires_at=float(p.expires_at), alive=alive)


def _subprotocol(socket: WebSocket[Any, Any, Any]) -> str | None:
    """Browsers send the token as a ``bearer.*`` subprotocol; answer with the other one offered."""
    offered = socket.scope.get("subprotocols") or []
    for proto in offered:
        if not str(proto).startswith("bearer."):
            return str(proto)
    return None


@websocket("/v1/notifications/ws", guards=[citizen])
async def ws_stream(
    socket: WebSocket[Any, Any, Any],
    db: Db,
    channels: NamedDependency[ChannelsPlugin],
    since: FromQuery[str | None] = None,
) -> None:
    """WebSocket: the same frames as the SSE stream, as JSON text messages; resume with ``since``."""
    account_id = _account(principal_of(socket))
    after = _since(since, "since")
    try:
        session = await _live_session(socket, db)
    except Unauthorized:
        await socket.close(code=SESSION_ENDED_CLOSE, reason="session ended")
        return
    await socket.accept(subprotocols=_subprotocol(socket))
    REALTIME_CONNECTIONS.labels("ws").inc()

    async def until_closed() -> None:
        # The client sends nothing we need; reading is how a close is noticed at once.
        while (await socket.receive())["type"] != "websocket.disconnect":
            continue

    closed = asyncio.create_task(until_closed())
    frames = feed(db, channels, account_id, after, session)
    try:
        while True:
            next_frame = asyncio.ensure_future(anext(frames))
            done, _ = await asyncio.wait({next_frame, closed}, return_when=asyncio.FIRST_COMPLETED)
            if closed in done:
                next_frame.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await next_frame
                break
            try:
                frame = next_frame.result()
            except StopAsyncIteration:  # the session ended: its last frame said why
                # Stop reading first: granian sends the close frame only once no receive is pending.
                closed.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await closed
                await socket.close(code=SESSION_ENDED_CLOSE, reason="session ended")
                break
            if frame is None:
                await socket.send_text('{"event":"ping"}')
            else:
                await socket.send_text(
                    json.dumps(
                        {"id": frame.id, "event": frame.event, "data": frame.data}, ensure_ascii=False, default=str
                    )
                )
    finally:
        closed.cancel()
        await frames.aclose()
        REALTIME_CONNECTIONS.labels("ws").dec()


ROUTES = [
    list_inbox,
    unread,
    get_notification,
    mark_read,
    mark_all_read,
    delete_notification,
    get_preferences,
    put_preferences,
    put_push_token,
    stream,
    ws_stream,
]
