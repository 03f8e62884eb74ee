"""What linking (and the e-wallet provider integration it owns) contributes to the service."""

from payments.provider_sim.cli import provider_sim
from payments.providers.plugin import ProvidersPlugin
from wallet_api.domains import Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(
    name="linking",
    commands=[provider_sim],
    plugins=[ProvidersPlugin()],
)
