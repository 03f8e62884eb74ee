"""Inbox retention: a periodic job that removes what citizens no longer need.

Two rules (``WALLET_NOTIFY_RETENTION_READ_DAYS``, ``WALLET_NOTIFY_RETENTION_MAX_DAYS``):
an entry is removed that many days after it was **read**, and any entry, read or not,
that many days after it was **created**. Deliveries of a removed entry go with it
(``ON DELETE CASCADE``); the account's ``seq`` counter is untouched, so cursors stay valid.

Deletes go in batches of ``WALLET_NOTIFY_RETENTION_BATCH`` rows, each its own short
statement that locks only the rows it removes (``FOR UPDATE SKIP LOCKED``: several workers
running the loop share the work and never wait for each other or for a citizen marking
an entry read). Each batch walks an index (``notifications_read``, ``notifications_created``).
"""

from __future__ import annotations

import logging

from notifications.metrics import RETENTION_DELETED
from wallet_api.kernel import BackgroundLoop, WorkerContext

__all__ = ["LOOP", "remove_expired_once"]

log = logging.getLogger(__name__)

#: Seconds between sweeps once nothing is left to remove.
IDLE_SECONDS = 600.0

_READ = """
DELETE FROM notifications WHERE id IN (
    SELECT id FROM notifications
    WHERE read_at IS NOT NULL AND read_at < now() - make_interval(days => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED)
"""
_TOO_OLD = """
DELETE FROM notifications WHERE id IN (
    SELECT id FROM notifications
    WHERE created_at < now() - make_interval(days => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED)
"""


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def remove_expired_once(ctx: WorkerContext) -> int:
    """Remove at most one batch per rule; returns how many entries went (0: nothing due)."""
    s = ctx.settings
    read = _count(await ctx.pool.execute(_READ, s.notifications.retention_read_days, s.notifications.retention_batch))
    old = _count(await ctx.pool.execute(_TOO_OLD, s.notifications.retention_max_days, s.notifications.retention_batch))
    if read:
        RETENTION_DELETED.labels("read").inc(read)
    if old:
        RETENTION_DELETED.labels("max_age").inc(old)
    if read or old:
        log.info("inbox entries removed", extra={"read": read, "max_age": old})
    return read + old


LOOP = BackgroundLoop(name="notifications.retention", run_once=remove_expired_once, idle_interval=IDLE_SECONDS)
