"""What linking (and the e-wallet provider integration it owns) contributes to the service."""

from payments.linking.flow import LINKING_CONSUMER
from payments.linking.review import WalletLinkReviewController
from payments.linking.routes import WalletLinkController, list_providers
from payments.providers import PROVIDERS
from wallet_api.kernel import Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(
    name="linking",
    routes=[WalletLinkController, WalletLinkReviewController, list_providers],
    consumers=[LINKING_CONSUMER],
    services=[PROVIDERS],
)
