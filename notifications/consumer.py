"""The outbox consumer: events from other domains become inbox entries and deliveries.

One batch of events is one transaction: the accounts, their preferences and push-capable
devices are read in three queries, inbox entries are inserted with one multi-row INSERT
(``ON CONFLICT DO NOTHING`` on the notice's dedupe key makes a redelivered event a no-op),
and the push/SMS deliveries of the new entries with another. After commit, the new
entries go to the open apps in one Redis pipeline; if that fails, apps still get them from
the inbox when they reconnect.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg
import msgspec

from notifications.events import TOPICS, BadEvent, Notice, notice_from_event
from notifications.metrics import NOTICES
from notifications.realtime import encode_message, publish_realtime_many
from notifications.store import view_of
from notifications.templates import CATEGORIES, Language
from wallet_api.outbox import Consumer, EventFailure, OutboxEvent, register
from wallet_api.worker_context import WorkerContext

__all__ = ["CONSUMER", "CONSUMER_NAME", "handle_events"]

CONSUMER_NAME = "notifications.inbox"

_ACCOUNTS = "SELECT id, language, state, phone FROM accounts WHERE id = ANY($1::uuid[])"
_PREFERENCES = """SELECT account_id, category, push, sms FROM notification_preferences
                  WHERE account_id = ANY($1::uuid[])"""
_DEVICES = """SELECT id, account_id, push_platform FROM devices
              WHERE account_id = ANY($1::uuid[]) AND revoked_at IS NULL
                AND push_token IS NOT NULL AND push_platform IS NOT NULL"""
_INSERT_NOTICES = """
INSERT INTO notifications (account_id, kind, category, params, ref_type, ref_id, dedupe_key)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::text[], $7::text[])
ON CONFLICT (account_id, dedupe_key) DO NOTHING
RETURNING id, account_id, kind, category, params, ref_type, ref_id, dedupe_key, created_at, read_at
"""
_INSERT_DELIVERIES = """
INSERT INTO notification_deliveries (notification_id, account_id, channel, device_id)
SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::uuid[])
"""

#: Accounts that receive nothing: a closed account has no app to tell.
_SILENT_STATES = {"closed"}


def _channels(
    category: str, prefs: Mapping[tuple[uuid.UUID, str], tuple[bool, bool]], account: uuid.UUID
) -> tuple[bool, bool]:
    cat = CATEGORIES[category]
    if cat.mandatory:
        return cat.push, cat.sms
    return prefs.get((account, category), (cat.push, cat.sms))


async def handle_events(events: list[OutboxEvent], ctx: WorkerContext) -> dict[int, EventFailure]:
    failures: dict[int, EventFailure] = {}
    notices: list[tuple[int, Notice]] = []
    for event in events:
        try:
            notice = notice_from_event(event.id, event.topic, event.payload)
        except BadEvent as exc:
            failures[event.id] = EventFailure(str(exc), permanent=True)
            continue
        if notice is not None:
            notices.append((event.id, notice))
    if not notices:
        return failures
    account_ids = list({n.account_id for _, n in notices})
    async with ctx.pool.acquire() as conn, conn.transaction():
        accounts = {r["id"]: r for r in await conn.fetch(_ACCOUNTS, account_ids)}
        prefs = {
            (r["account_id"], r["category"]): (r["push"], r["sms"]) for r in await conn.fetch(_PREFERENCES, account_ids)
        }
        devices: dict[uuid.UUID, list[asyncpg.Record]] = {}
        for r in await conn.fetch(_DEVICES, account_ids):
            devices.setdefault(r["account_id"], []).append(r)
        wanted: list[Notice] = []
        for event_id, notice in notices:
            account = accounts.get(notice.account_id)
            if account is None:
                failures[event_id] = EventFailure("unknown account", permanent=True)
            elif account["state"] not in _SILENT_STATES:
                wanted.append(notice)
        if not wanted:
            return failures
        inserted = await conn.fetch(
            _INSERT_NOTICES,
            [n.account_id for n in wanted],
            [n.kind for n in wanted],
            [n.category for n in wanted],
            [n.params for n in wanted],
            [n.ref_type for n in wanted],
            [n.ref_id for n in wanted],
            [n.dedupe_key for n in wanted],
        )
        by_key = {(n.account_id, n.dedupe_key): n for n in wanted}
        d_notice: list[int] = []
        d_account: list[uuid.UUID] = []
        d_channel: list[str] = []
        d_device: list[uuid.UUID | None] = []
        for row in inserted:
            notice = by_key[(row["account_id"], row["dedupe_key"])]
            push, sms = _channels(notice.category, prefs, notice.account_id)
            if push:
                for device in devices.get(notice.account_id, ()):
                    if device["id"] != notice.skip_device_id:
                        d_notice.append(row["id"])
                        d_account.append(notice.account_id)
                        d_channel.append(device["push_platform"])
                        d_device.append(device["id"])
            if sms and accounts[notice.account_id]["phone"]:
                d_notice.append(row["id"])
                d_account.append(notice.account_id)
                d_channel.append("sms")
                d_device.append(None)
        if d_notice:
            await conn.execute(_INSERT_DELIVERIES, d_notice, d_account, d_channel, d_device)
    messages: list[tuple[uuid.UUID, bytes]] = []
    counts: dict[str, int] = {}
    for row in inserted:
        language: Language = "en" if accounts[row["account_id"]]["language"] == "en" else "vi"
        view: dict[str, Any] = msgspec.to_builtins(view_of(row, language))
        messages.append((row["account_id"], encode_message("notification", view, message_id=row["id"])))
        counts[row["category"]] = counts.get(row["category"], 0) + 1
    await publish_realtime_many(ctx.redis, messages)
    for category, n in counts.items():
        NOTICES.labels(category).inc(n)
    return failures


CONSUMER = register(Consumer(name=CONSUMER_NAME, topics=TOPICS, handle=handle_events, batch_size=500, backoff_base=2.0))
