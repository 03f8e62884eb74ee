"""The outbox consumer: events from other domains become inbox entries and deliveries.

One batch of events is one transaction: the accounts (and the guardians of children's
accounts), their preferences, push-capable devices and confirmed addresses are read in four
or five queries, the accounts' inbox counters are advanced in one statement (notifications/store.py: this
orders entries by commit), inbox entries are inserted with one multi-row INSERT (``ON
CONFLICT DO NOTHING`` on the notice's dedupe key makes a redelivered event a no-op), and
the deliveries of the new entries with another: one per destination each channel
(notifications/channels/) reaches for the account, on the channels whose preference is on
for the entry's category. A notice about a child's account (under 14) is also copied to the
inbox of each of its guardians, in that guardian's language and with that guardian's
channels, devices and addresses. After commit, the new
entries go to the open apps in one Redis pipeline; if that fails, apps still get them from
the inbox when they reconnect.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import msgspec

from notifications import preferences, store
from notifications.channels import Contact, Device
from notifications.events import TOPICS, BadEvent, Notice, notice_from_event
from notifications.metrics import NOTICES
from notifications.realtime import encode_message, publish_realtime_many
from notifications.services import CHANNELS
from notifications.store import view_of
from notifications.templates import CATEGORIES, Language
from wallet_api.kernel import Consumer, EventFailure, OutboxEvent, WorkerContext

__all__ = ["CONSUMER", "CONSUMER_NAME", "handle_events"]

CONSUMER_NAME = "notifications.inbox"

# Notices about a child's account (under 14) are copied to the inbox of each of its guardians
# too: those of accounts' view guardianship_current (wallet_api/accounts/guardianship.py).
# Who an account is and how to reach it: accounts' view account_contacts.
_ACCOUNTS = """
SELECT a.account_id AS id, a.language, a.state, a.phone,
       ARRAY(SELECT g.guardian_account_id FROM guardianship_current g
             WHERE g.child_account_id = a.account_id ORDER BY g.since) AS guardian_ids,
       CASE WHEN EXISTS (SELECT 1 FROM guardianship_current g WHERE g.child_account_id = a.account_id)
            THEN a.full_name END AS child_name
FROM account_contacts a
WHERE a.account_id = ANY($1::uuid[])
"""
_GUARDIANS = """
SELECT account_id AS id, language, state, phone, ARRAY[]::uuid[] AS guardian_ids, NULL::text AS child_name
FROM account_contacts WHERE account_id = ANY($1::uuid[])
"""
_DEVICES = """SELECT device_id AS id, account_id, push_platform, push_token FROM push_devices
              WHERE account_id = ANY($1::uuid[])"""
_ADDRESSES = """SELECT account_id, channel, address FROM notification_addresses
                WHERE account_id = ANY($1::uuid[]) AND address IS NOT NULL"""
_INSERT_DELIVERIES = """
INSERT INTO notification_deliveries (notification_id, account_id, channel, device_id)
SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::uuid[])
"""

#: Accounts that receive nothing: a closed account has no app to tell.
_SILENT_STATES = {"closed"}


def _guardian_copy(notice: Notice, guardian_id: uuid.UUID) -> Notice:
    """The guardian's copy of a notice about the child's account (its own dedupe key)."""
    return dataclasses.replace(
        notice,
        account_id=guardian_id,
        dedupe_key=f"guardian:{notice.account_id}:{notice.dedupe_key}",
        skip_device_id=None,
        about_account_id=notice.account_id,
    )


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
        guardian_ids = {g for r in accounts.values() for g in r["guardian_ids"]} - set(accounts)
        if guardian_ids:
            accounts.update({r["id"]: r for r in await conn.fetch(_GUARDIANS, list(guardian_ids))})
        everyone = list(accounts)
        choices = await preferences.load(conn, everyone)
        devices: dict[uuid.UUID, list[Device]] = {}
        for r in await conn.fetch(_DEVICES, everyone):
            devices.setdefault(r["account_id"], []).append(Device(r["id"], r["push_platform"], r["push_token"]))
        addresses: dict[uuid.UUID, dict[str, str]] = {}
        for r in await conn.fetch(_ADDRESSES, everyone):
            addresses.setdefault(r["account_id"], {})[r["channel"]] = r["address"]
        wanted: list[Notice] = []
        skip_device: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
        for event_id, notice in notices:
            account = accounts.get(notice.account_id)
            if account is None:
                failures[event_id] = EventFailure("unknown account", permanent=True)
                continue
            if account["state"] in _SILENT_STATES:
                continue
            wanted.append(notice)
            if notice.skip_device_id is not None:
                skip_device[(notice.account_id, notice.dedupe_key)] = notice.skip_device_id
            for guardian_id in account["guardian_ids"]:
                if accounts[guardian_id]["state"] not in _SILENT_STATES:
                    wanted.append(_guardian_copy(notice, guardian_id))
        if not wanted:
            return failures
        inserted = await store.insert_notices(conn, wanted)
        d_notice: list[int] = []
        d_account: list[uuid.UUID] = []
        d_channel: list[str] = []
        d_device: list[uuid.UUID | None] = []
        built = ctx.services.get(CHANNELS)
        channels = list(built)
        for row in inserted:
            account_id = row["account_id"]
            cat = CATEGORIES[row["category"]]
            chosen = choices.get(account_id, {})
            contact = Contact(
                account_id,
                accounts[account_id]["phone"],
                tuple(devices.get(account_id, ())),
                addresses.get(account_id, {}),
            )
            skip = skip_device.get((account_id, row["dedupe_key"]))
            for plugin, channel in channels:
                if not preferences.is_on(cat, plugin.preference, chosen):
                    continue
                for to in channel.reach(contact):
                    if to.device_id is None or to.device_id != skip:
                        d_notice.append(row["id"])
                        d_account.append(account_id)
                        d_channel.append(plugin.name)
                        d_device.append(to.device_id)
        if d_notice:
            await conn.execute(_INSERT_DELIVERIES, d_notice, d_account, d_channel, d_device)
    messages: list[tuple[uuid.UUID, bytes]] = []
    counts: dict[str, int] = {}
    for row in inserted:
        language: Language = "en" if accounts[row["account_id"]]["language"] == "en" else "vi"
        about = row["about_account_id"]
        child_name = accounts[about]["child_name"] if about is not None else None
        view: dict[str, Any] = msgspec.to_builtins(view_of(row, language, about_name=child_name))
        messages.append((row["account_id"], encode_message("notification", view, message_id=row["seq"])))
        counts[row["category"]] = counts.get(row["category"], 0) + 1
    await publish_realtime_many(ctx.redis, messages)
    for category, n in counts.items():
        NOTICES.labels(category).inc(n)
    return failures


CONSUMER = Consumer(name=CONSUMER_NAME, topics=TOPICS, handle=handle_events, batch_size=500, backoff_base=2.0)
