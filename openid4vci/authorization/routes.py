"""What the authorization code flow adds to the ``openid4vci`` domain: routes and a purge loop."""

from __future__ import annotations

from openid4vci.authorization import approvals, page, par
from openid4vci.authorization.store import purge_expired
from wallet_api.kernel import BackgroundLoop, WorkerContext

__all__ = ["APP_ROUTES", "LOOPS", "PAGE_ROUTES", "PROTOCOL_ROUTES"]

#: Answering errors in OAuth's format (the domain puts them in its protocol router).
PROTOCOL_ROUTES = [par.pushed_authorization_request]
#: The authorization page, its status and its way back to the wallet (HTML, outside the API).
PAGE_ROUTES = page.PAGE_ROUTES
#: The citizen's side, in the app (RFC 9457 problems as every app route).
APP_ROUTES = approvals.ROUTES


async def _purge(ctx: WorkerContext) -> int:
    return await purge_expired(ctx.services.pool)


LOOPS = [BackgroundLoop("oid4vci-authorizations-purge", _purge, idle_interval=600.0)]
