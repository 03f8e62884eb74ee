"""Request and response bodies of the verifier service's API (for a verifier's backend)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

__all__ = ["PresentationRequestIn", "PresentationRequestOut", "PresentationStatusOut"]


class PresentationRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    #: The DCQL query (OpenID4VP 1.0 section 6): which of our credential types, which claims.
    dcql_query: dict[str, Any]
    #: ``direct_post.jwt`` (the default, HAIP): the wallet encrypts its response to a key of this request.
    response_mode: Literal["direct_post", "direct_post.jwt"] = "direct_post.jwt"
    #: ``x509_san_dns`` (the default): client_id ``x509_san_dns:<our host>``, checked by the wallet
    #: against the request's certificate; ``x509_hash`` (HAIP): ``x509_hash:<sha-256 of that
    #: certificate>``; ``pre-registered``: client_id = the verifier's organisation id.
    client_id_prefix: Literal["x509_san_dns", "x509_hash", "pre-registered"] = "x509_san_dns"
    #: Same-device: where the wallet sends the person back after answering (https).
    redirect_uri: Annotated[str, Meta(min_length=1, max_length=2000)] | None = None


class PresentationRequestOut(msgspec.Struct):
    #: Read the outcome with ``GET /v1/presentation-requests/{transaction_id}``.
    transaction_id: str
    client_id: str
    request_uri: str
    #: ``openid4vp://?client_id=…&request_uri=…``: shown as a QR code (cross-device) or opened
    #: as a link on the phone (same-device).
    authorization_request: str
    qr_png: str
    qr_svg: str
    response_mode: str
    redirect_uri: str | None
    expires_at: dt.datetime


class PresentationStatusOut(msgspec.Struct, omit_defaults=True):
    transaction_id: str
    #: pending (the wallet has not answered), presented (the result, given once), delivered
    #: (the result was already given), refused (why, in ``error``).
    status: Literal["pending", "presented", "delivered", "refused"]
    #: Whether a wallet fetched the request object (while pending).
    request_fetched: bool = False
    #: Per DCQL credential query id: the document's type, issuer, status and the requested claims only.
    credentials: dict[str, Any] | None = None
    #: The value the wallet's redirect carried (same-device): the result is given only to a
    #: read that shows it (``?response_code=``), so only the browser session the wallet came back to.
    response_code: str | None = None
    error: dict[str, str] | None = None
