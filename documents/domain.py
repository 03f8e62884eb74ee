"""What the documents domain contributes to the service."""

from litestar import Router

from documents import agency, presentation, public, verification, wallet
from documents.cli import documents_group, verify_qr
from documents.expiry import EXPIRY_LOOP
from documents.issuer_keys import ISSUER_KEYS
from documents.mdoc import DS_KEYS, IACA_KEYS
from documents.mdoc import routes as mdoc_routes
from documents.seed import seed_documents
from wallet_api.kernel import Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(
    name="documents",
    routes=[
        # The API proper is versioned like every other domain's; the public documents that
        # credentials and QR codes point to (status lists, issuer metadata, type metadata at
        # each vct's path, /v/{code}) are not,
        # because their URLs are signed into credentials that outlive any API version.
        Router(
            path="/v1",
            route_handlers=[
                *agency.ROUTES,
                *wallet.ROUTES,
                presentation.online_presentation,
                presentation.offline_presentation,
                *verification.ROUTES,
                public.document_types,
                public.document_type_schema,
            ],
        ),
        presentation.code_landing,
        public.issuer_metadata,
        public.status_list,
        *mdoc_routes.ROUTES,
        public.vct_type_metadata,
    ],
    loops=[EXPIRY_LOOP],
    commands=[verify_qr, documents_group],
    seeders=[seed_documents],
    signing_keys=[ISSUER_KEYS, IACA_KEYS, DS_KEYS],
)
