"""What the OpenID4VCI credential issuer contributes to the service."""

from litestar import Router

from openid4vci import credential, offer_routes, public, token
from openid4vci.access_tokens import ACCESS_TOKEN_KEYS
from openid4vci.attestation import WALLET_PROVIDERS
from openid4vci.authorization import routes as authorization
from openid4vci.errors import ProtocolError, oversized_request_response, protocol_error_response
from openid4vci.sweep import OFFERS_SWEEP
from wallet_api.kernel import Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(
    name="openid4vci",
    routes=[
        *public.WELL_KNOWN_ROUTES,
        # The protocol endpoints answer errors in OAuth's format, not as problems.
        Router(
            path="/",
            route_handlers=[
                token.token_endpoint,
                credential.credential_endpoint,
                *public.PROTOCOL_ROUTES,
                *authorization.PROTOCOL_ROUTES,
            ],
            exception_handlers={ProtocolError: protocol_error_response, 413: oversized_request_response},
        ),
        *offer_routes.ROUTES,
        *authorization.PAGE_ROUTES,
        *authorization.APP_ROUTES,
    ],
    loops=[OFFERS_SWEEP, *authorization.LOOPS],
    services=[WALLET_PROVIDERS],
    signing_keys=[ACCESS_TOKEN_KEYS],
)
