"""Request and answer bodies of the offer routes (the protocol endpoints' are OAuth's JSON)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

__all__ = ["OfferOut", "OfferRequest", "TxCodeOut"]


class OfferRequest(msgspec.Struct, forbid_unknown_fields=True):
    #: The documents the other wallet may fetch (one holder's).
    document_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=20)]


class OfferOut(msgspec.Struct, omit_defaults=True):
    offer_id: UUID
    #: The ``openid-credential-offer://`` link a wallet opens (also drawn as the QR code).
    offer: str
    credential_offer_uri: str
    expires_at: dt.datetime
    qr_png: str
    qr_svg: str
    #: Only in the holder's own answer (the app), never in an agency's.
    tx_code: str | None = None


class TxCodeOut(msgspec.Struct):
    tx_code: str
    expires_at: dt.datetime
