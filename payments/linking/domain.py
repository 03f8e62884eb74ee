"""What linking contributes to the service."""

from wallet_api.domains import Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(name="linking")
