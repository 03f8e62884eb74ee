"""The verifier page asks a wallet for chosen claims over OpenID4VP (docs/consoles.md).

The signed-in verifier officer picks a document type and its claims (or a preset), and the
page creates a presentation request through the verifier service's own function
(``openid4vp.api.create_request``, as ``POST /v1/presentation-requests`` does) on behalf
of the officer's organisation: an SD-JWT VC query in DCQL, answered by ``direct_post.jwt``
under ``x509_san_dns``. The page shows the ``openid4vp://`` request as the service's QR
code and as a link, then reads the outcome (``openid4vp.api.request_status``) until the
wallet answered, was refused, or the request expired, and shows it as the other verdicts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED

from consoles.session import require_csrf
from documents.guards import verifier
from documents.types import DocumentInvalid, DocumentType, Label, all_types, get_type
from openid4vp.api import create_request, request_status
from openid4vp.schemas import PresentationRequestIn
from wallet_api.kernel import AppServices, Caller, ValidationFailed

__all__ = ["PRESETS", "ROUTES", "Preset", "choices"]

#: The DCQL credential query id of the one credential the page asks for.
_QUERY_ID = "document"


@dataclass(frozen=True, slots=True)
class Preset:
    """A usual question: a document type and the claims a counter needs, nothing more."""

    code: str
    label: Label
    document_type: str
    claims: tuple[str, ...]


PRESETS = (
    Preset(
        "hotel-check-in",
        Label(
            "Nhận phòng khách sạn: họ tên, ngày sinh, số định danh", "Hotel check-in: name, date of birth, ID number"
        ),
        "chip_id_card",
        ("full_name", "date_of_birth", "id_number"),
    ),
    Preset("over-18", Label("Chỉ xác nhận đủ 18 tuổi", "Over 18 only"), "chip_id_card", ("age_over_18",)),
    Preset(
        "driving-licence-check",
        Label("Kiểm tra giấy phép lái xe", "Driving licence check"),
        "driving_licence",
        ("full_name", "portrait", "licence_number", "classes", "expiry_date", "points"),
    ),
)


def choices() -> list[dict[str, Any]]:
    """Each document type with the claims a verifier may ask for, labelled, for the page's form."""
    return [
        {
            "code": t.code,
            "title": t.title,
            "claims": [{"name": name, "label": t.label(name)} for name in t.disclosable],
        }
        for t in all_types()
    ]


class AskIn(msgspec.Struct, forbid_unknown_fields=True):
    document_type: Annotated[str, msgspec.Meta(max_length=64)]
    claims: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=64)]


class AskOut(msgspec.Struct):
    transaction_id: str
    #: ``openid4vp://…``: the QR code's text, and the same-device link.
    authorization_request: str
    qr_png: str
    expires_at: dt.datetime
    title: dict[str, str]
    #: The claims asked for (the type's groups completed), with their labels.
    asked: list[dict[str, Any]]


class AskStatus(msgspec.Struct, omit_defaults=True):
    #: pending; presented (``answer`` holds the verdict's facts and the claims); delivered
    #: (the answer was already shown once); refused (``reason``, ``detail``).
    state: Literal["pending", "presented", "delivered", "refused"]
    request_fetched: bool = False
    answer: dict[str, Any] | None = None
    reason: str | None = None
    detail: str | None = None


def _refused(key: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"key": key, "message": message}])


def _asked(data: AskIn) -> tuple[DocumentType, list[str]]:
    doc_type = get_type(data.document_type)
    if doc_type is None:
        raise _refused("document_type", "No such document type.")
    if not data.claims:
        raise _refused("claims", "Choose at least one claim to ask for.")
    try:
        return doc_type, doc_type.expand(data.claims)
    except DocumentInvalid as exc:
        raise ValidationFailed(
            "The document type has no such claim.", errors=[{"key": e.field, "message": e.message} for e in exc.errors]
        ) from None


def _dcql(doc_type: DocumentType, claims: list[str]) -> dict[str, Any]:
    """One SD-JWT VC of the type with exactly these claims; the portrait only if the document has one.

    A document issued without a portrait could not answer a query naming it (a wallet offers
    only credentials holding every claim of a set), so the portrait gets a second claim set
    without it (DCQL ``claim_sets``, the first preferred)."""
    ids = {name: f"c{i}" for i, name in enumerate(claims)}
    query: dict[str, Any] = {
        "id": _QUERY_ID,
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [doc_type.vct]},
        "claims": [{"id": ids[name], "path": [name]} for name in claims],
    }
    if doc_type.portrait in ids and len(ids) > 1:
        query["claim_sets"] = [list(ids.values()), [i for name, i in ids.items() if name != doc_type.portrait]]
    return {"credentials": [query]}


@post("/presentation-requests", guards=[verifier], include_in_schema=False, status_code=HTTP_201_CREATED)
async def ask(request: Request[Any, Any, Any], principal: Caller, services: AppServices) -> AskOut:
    await require_csrf(request)
    try:
        data = msgspec.json.decode(await request.body(), type=AskIn)
    except msgspec.DecodeError as exc:
        raise _refused("body", f'Send {{"document_type", "claims"}}: {exc}') from None
    doc_type, claims = _asked(data)
    created = await create_request(
        services,
        principal,
        PresentationRequestIn(
            dcql_query=_dcql(doc_type, claims), response_mode="direct_post.jwt", client_id_prefix="x509_san_dns"
        ),
    )
    return AskOut(
        transaction_id=created.transaction_id,
        authorization_request=created.authorization_request,
        qr_png=created.qr_png,
        expires_at=created.expires_at,
        title=doc_type.title.as_dict(),
        asked=[{"name": name, "label": doc_type.label(name).as_dict()} for name in claims],
    )


def _answer(credential: dict[str, Any]) -> dict[str, Any]:
    """The presented credential as the verdict panel shows any verification's answer."""
    doc_type = get_type(str(credential.get("document_type")))
    claims: dict[str, Any] = credential.get("claims", {})
    portrait = doc_type.portrait if doc_type is not None and doc_type.portrait in claims else None
    return {
        "kind": "openid4vp",
        "status": credential.get("status"),
        "document_type": credential.get("document_type"),
        "title": credential.get("title"),
        "issuer": credential.get("issuer"),
        "valid_from": credential.get("valid_from"),
        "valid_until": credential.get("valid_until"),
        "holder_level": credential.get("holder_level"),
        "holder_binding": credential.get("holder_binding"),
        "fields": claims,
        "labels": credential.get("labels", {}),
        "portrait": portrait,
    }


@get("/presentation-requests/{transaction_id:str}", guards=[verifier], include_in_schema=False)
async def outcome(
    request: Request[Any, Any, Any], principal: Caller, services: AppServices, transaction_id: FromPath[str]
) -> AskStatus:
    # Reading a presented result takes it (it is given once): only the page's own script may.
    await require_csrf(request)
    status = await request_status(services, principal, transaction_id)
    if status.status == "presented" and status.credentials is not None:
        return AskStatus(state="presented", request_fetched=True, answer=_answer(status.credentials[_QUERY_ID]))
    if status.status == "refused":
        error = status.error or {}
        return AskStatus(state="refused", reason=error.get("reason"), detail=error.get("error_description"))
    return AskStatus(state=status.status, request_fetched=status.request_fetched)


ROUTES = [ask, outcome]
