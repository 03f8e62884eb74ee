"""What the verifier service contributes to the API."""

from litestar import Router

from openid4vp import api, wallet
from openid4vp.identity import VERIFIER_IDENTITY
from wallet_api.kernel import Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(
    name="openid4vp",
    routes=[
        Router(path="/v1", route_handlers=api.ROUTES),
        # The wallet-facing URIs are signed into request objects: not versioned with the API.
        *wallet.ROUTES,
    ],
    services=[VERIFIER_IDENTITY],
)
