"""Housekeeping that keeps the work tables small: finished outbox rows, expired idempotency keys.

Deletes in bounded chunks so a backlog never turns into one long transaction.
"""

from __future__ import annotations

from wallet_api.worker_context import BackgroundLoop, WorkerContext

__all__ = ["JANITOR"]

_CHUNK = 5000
#: Finished outbox rows are kept this long for inspection (dead letters are kept until handled).
_OUTBOX_RETENTION = "7 days"

_PURGE_OUTBOX = f"""
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox WHERE state = 'done' AND finished_at < now() - interval '{_OUTBOX_RETENTION}'
    LIMIT {_CHUNK}
)
"""

_PURGE_IDEMPOTENCY = f"""
DELETE FROM idempotency_keys WHERE (principal, key) IN (
    SELECT principal, key FROM idempotency_keys
    WHERE created_at < now() - make_interval(hours => $1) AND state IN ('done', 'rerun')
    LIMIT {_CHUNK}
)
"""


async def _sweep(ctx: WorkerContext) -> int:
    outbox = await ctx.pool.execute(_PURGE_OUTBOX)
    keys = await ctx.pool.execute(_PURGE_IDEMPOTENCY, ctx.settings.idempotency_ttl_hours)
    return int(outbox.split()[-1]) + int(keys.split()[-1])


JANITOR = BackgroundLoop(name="janitor", run_once=_sweep, idle_interval=60.0)
