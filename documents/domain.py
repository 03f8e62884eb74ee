"""What the documents domain contributes to the service."""

from documents import agency, presentation, public, verification, wallet
from documents.cli import documents_group, verify_qr
from documents.expiry import EXPIRY_LOOP
from documents.seed import seed_documents
from wallet_api.domains import Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(
    name="documents",
    routes=[*agency.ROUTES, *wallet.ROUTES, *presentation.ROUTES, *verification.ROUTES, *public.ROUTES],
    loops=[EXPIRY_LOOP],
    commands=[verify_qr, documents_group],
    seeders=[seed_documents],
)
