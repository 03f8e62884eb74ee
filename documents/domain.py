"""What the documents domain contributes to the service."""

from documents import agency, presentation, public, verification, wallet
from wallet_api.domains import Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(
    name="documents",
    routes=[*agency.ROUTES, *wallet.ROUTES, *presentation.ROUTES, *verification.ROUTES, *public.ROUTES],
)
