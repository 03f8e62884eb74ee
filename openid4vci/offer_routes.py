"""Making credential offers: the holder in the app, an issuing agency for a named holder, and the
holder opening an agency's offer for its transaction code."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

import asyncpg
from litestar import post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from documents.credentials import DOCUMENTS_LEVEL, citizen_document
from documents.guards import issuing_agency
from documents.qr import render_qr
from documents.service import load_agency_document
from openid4vci.offers import MadeOffer, insert_offer, new_tx_code, offer_uri, tx_code_digest
from openid4vci.schemas import OfferOut, OfferRequest, TxCodeOut
from wallet_api.kernel import (
    NOT_REPLAYED,
    AppSettings,
    Caller,
    Db,
    Forbidden,
    NotFound,
    Principal,
    Problem,
    Settings,
    ValidationFailed,
    citizen,
    level_too_low,
    publish,
    record,
)

__all__ = ["ROUTES"]

_TAGS = ["openid4vci"]


def _offer_out(settings: Settings, made: MadeOffer, tx_code: str | None) -> OfferOut:
    uri, link = offer_uri(settings, made.ref)
    images = render_qr(link)
    return OfferOut(
        offer_id=made.offer_id,
        offer=link,
        credential_offer_uri=uri,
        expires_at=made.expires_at,
        qr_png=images.png_base64,
        qr_svg=images.svg,
        tx_code=tx_code,
    )


def _unique(document_ids: list[UUID]) -> list[UUID]:
    if len(set(document_ids)) != len(document_ids):
        raise ValidationFailed(
            "A document is named twice.", errors=[{"key": "document_ids", "message": "repeated document"}]
        )
    return document_ids


def _offerable(doc: asyncpg.Record) -> None:
    if doc["state"] != "active":
        raise Problem(
            f"A {doc['state']} document cannot be offered to a wallet.",
            slug="document-state",
            status=409,
            title="The document cannot be offered",
            state=doc["state"],
        )


@post(
    "/v1/me/credential-offers",
    guards=[citizen],
    opt=NOT_REPLAYED,
    tags=_TAGS,
    summary="Offer my documents to another wallet (OpenID4VCI pre-authorized code; tx_code shown here only)",
    status_code=HTTP_201_CREATED,
)
async def my_credential_offer(
    principal: Caller, db: Db, settings: AppSettings, data: JSONBody[OfferRequest]
) -> OfferOut:
    if principal.device_id is None:
        raise Forbidden("Offers are made from the app on a bound device.", slug="device-required")
    document_ids = _unique(data.document_ids)
    async with db.acquire() as conn, conn.transaction():
        for document_id in document_ids:
            _offerable(await citizen_document(conn, principal, document_id))
        made, tx_code = await insert_offer(conn, settings, UUID(principal.subject), document_ids, by_agency=None)
    return _offer_out(settings, made, tx_code)


@post(
    "/v1/agency/credential-offers",
    guards=[issuing_agency],
    opt=NOT_REPLAYED,
    tags=_TAGS,
    summary="Offer a holder the documents the agency issued them (the tx_code reaches the holder in the app)",
    status_code=HTTP_201_CREATED,
)
async def agency_credential_offer(
    principal: Caller, db: Db, settings: AppSettings, data: JSONBody[OfferRequest]
) -> OfferOut:
    document_ids = _unique(data.document_ids)
    async with db.acquire() as conn, conn.transaction():
        docs = [await load_agency_document(conn, principal, d) for d in document_ids]
        for doc in docs:
            _offerable(doc)
        if len({doc["holder_id"] for doc in docs}) != 1:
            raise ValidationFailed(
                "An offer is for one holder: these documents belong to several.",
                errors=[{"key": "document_ids", "message": "several holders"}],
            )
        account = await conn.fetchrow(
            "SELECT id, level FROM accounts WHERE person_id = $1 AND state = 'active'", docs[0]["holder_id"]
        )
        if account is None or account["level"] < DOCUMENTS_LEVEL:
            raise Problem(
                "The holder has no account at identification level 2 in the app to receive the transaction code.",
                slug="holder-unreachable",
                status=409,
                title="The holder cannot receive the offer's transaction code",
            )
        made, _ = await insert_offer(conn, settings, account["id"], document_ids, by_agency=principal.org_id)
        await publish(
            conn,
            "credential_offer.made",
            {
                "account_id": str(account["id"]),
                "offer_id": str(made.offer_id),
                "doc_type": docs[0]["doc_type"],
                "issuer_org_id": principal.org_id,
            },
            key=str(made.offer_id),
        )
        await record(
            conn,
            actor=principal.key,
            action="credential_offer.make",
            subject=f"credential_offer:{made.offer_id}",
            details={"document_ids": [str(d) for d in document_ids]},
        )
    return _offer_out(settings, made, None)


@post(
    "/v1/me/credential-offers/{offer_id:uuid}/tx-code",
    guards=[citizen],
    opt=NOT_REPLAYED,
    tags=_TAGS,
    summary="The transaction code of an agency's offer to me (a new one each time: only the latest works)",
    status_code=HTTP_201_CREATED,
)
async def offer_tx_code(principal: Caller, db: Db, settings: AppSettings, offer_id: FromPath[UUID]) -> TxCodeOut:
    await _citizen_level(db, principal)
    tx_code = new_tx_code(settings.openid4vci.tx_code_length)
    expires_at: dt.datetime | None = await db.fetchval(
        """UPDATE credential_offers SET tx_code_hash = $3
           WHERE id = $1 AND account_id = $2::uuid AND made_by = 'agency'
             AND redeemed_at IS NULL AND expires_at > now() AND tx_failures < $4
           RETURNING expires_at""",
        offer_id,
        principal.subject,
        tx_code_digest(offer_id, tx_code),
        settings.openid4vci.tx_code_max_failures,
    )
    if expires_at is None:
        raise NotFound("No open offer of an agency to you has this id (it may have been used or have expired).")
    return TxCodeOut(tx_code=tx_code, expires_at=expires_at)


async def _citizen_level(db: asyncpg.Pool, principal: Principal) -> None:
    if principal.device_id is None:
        raise Forbidden("Offers are opened from the app on a bound device.", slug="device-required")
    level = await db.fetchval("SELECT level FROM accounts WHERE id = $1::uuid", principal.subject)
    if (level or 0) < DOCUMENTS_LEVEL:
        raise level_too_low(DOCUMENTS_LEVEL)


ROUTES = [my_credential_offer, agency_credential_offer, offer_tx_code]
