"""Offers that can no longer be redeemed go: a day after they expired (or were redeemed).

An offer row holds only digests and document ids, but nothing keeps it useful once it is
dead; deleting in bounded chunks keeps the table to the offers still open.
"""

from __future__ import annotations

from wallet_api.kernel import BackgroundLoop, WorkerContext

__all__ = ["OFFERS_SWEEP"]

_DELETE = """
DELETE FROM credential_offers WHERE id IN (
    SELECT id FROM credential_offers WHERE expires_at < now() - interval '1 day' LIMIT 5000
)
"""


async def _sweep(ctx: WorkerContext) -> int:
    return int((await ctx.pool.execute(_DELETE)).split()[-1])


OFFERS_SWEEP = BackgroundLoop(name="openid4vci-offers-sweep", run_once=_sweep, idle_interval=300.0)
