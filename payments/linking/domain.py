"""What linking (and the e-wallet provider integration it owns) contributes to the service."""

from payments.linking import flow
from payments.linking.review import WalletLinkReviewController
from payments.linking.routes import WalletLinkController, list_providers
from payments.providers.plugin import ProvidersPlugin
from wallet_api.domains import Domain

__all__ = ["DOMAIN"]

# Importing flow registers the outbox consumer that talks to providers.
_CONSUMER = flow.LINKING_CONSUMER

DOMAIN = Domain(
    name="linking",
    routes=[WalletLinkController, WalletLinkReviewController, list_providers],
    plugins=[ProvidersPlugin()],
)
