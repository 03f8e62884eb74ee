"""Request and response bodies of the documents API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

__all__ = [
    "AccessLogEntry",
    "BulkIssueRequest",
    "BulkIssueResult",
    "BulkRow",
    "CredentialOut",
    "DocumentOut",
    "IssueRequest",
    "OfflinePresentationOut",
    "OnlinePresentationOut",
    "PresentationRequest",
    "ReasonBody",
    "UpdateRequest",
    "VerificationOut",
    "VerifyRequest",
]

AgencyRef = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
HolderId = Annotated[str, Meta(pattern=r"^[0-9]{12}$")]
Reason = Annotated[str, Meta(min_length=1, max_length=500)]


class IssueRequest(msgspec.Struct, forbid_unknown_fields=True):
    doc_type: Annotated[str, Meta(min_length=1, max_length=64)]
    #: The agency's own number for the document: issuing twice with it is idempotent.
    agency_ref: AgencyRef
    #: Personal identification number of the holder (the person the document belongs to).
    holder_id: HolderId
    claims: dict[str, Any]


class UpdateRequest(msgspec.Struct, forbid_unknown_fields=True):
    claims: dict[str, Any]


class ReasonBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None


class DocumentOut(msgspec.Struct):
    id: UUID
    issuer_org_id: str
    doc_type: str
    agency_ref: str
    version: int
    state: Literal["active", "suspended", "revoked"]
    valid_from: dt.date
    valid_until: dt.date | None
    state_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class BulkIssueRequest(msgspec.Struct, forbid_unknown_fields=True):
    documents: Annotated[list[dict[str, Any]], Meta(min_length=1, max_length=50_000)]


class BulkRow(msgspec.Struct, omit_defaults=True):
    row: int
    status: Literal["created", "unchanged", "rejected"]
    document_id: UUID | None = None
    errors: list[dict[str, str]] | None = None
    #: For a rejected row: the problem type the single-document route would answer with.
    problem: str | None = None


class BulkIssueResult(msgspec.Struct):
    created: int
    unchanged: int
    rejected: int
    rows: list[BulkRow]


class CredentialOut(msgspec.Struct):
    document_id: UUID
    version: int
    format: Literal["dc+sd-jwt"]
    credential: str
    expires_at: dt.datetime | None


class PresentationRequest(msgspec.Struct, forbid_unknown_fields=True):
    #: Compact JWS signed by the device key over {document_id, fields, mode, aud, iat, jti[, verifier_org_id]}.
    proof: Annotated[str, Meta(min_length=10, max_length=8192)]


class OnlinePresentationOut(msgspec.Struct):
    code: str
    url: str
    expires_at: dt.datetime
    fields: list[str]
    qr_png: str
    qr_svg: str


class OfflinePresentationOut(msgspec.Struct):
    payload: str
    expires_at: dt.datetime
    fields: list[str]
    qr_version: int
    qr_png: str
    qr_svg: str


class VerifyRequest(msgspec.Struct, forbid_unknown_fields=True):
    #: What the verifier scanned: an online code's URL (or the bare code), or a ``VN2:`` payload.
    payload: Annotated[str, Meta(min_length=1, max_length=4096)]


class VerificationOut(msgspec.Struct):
    kind: Literal["online", "offline"]
    status: Literal["valid"]
    document_type: str
    title: dict[str, str]
    issuer: dict[str, str]
    valid_from: dt.date | None
    valid_until: dt.date | None
    holder_level: int | None
    fields: dict[str, Any]
    labels: dict[str, dict[str, str]]
    checked_at: dt.datetime


class AccessLogEntry(msgspec.Struct):
    document_id: UUID
    doc_type: str
    verifier_org_id: str | None
    verifier_name: str | None
    channel: str
    fields: list[str]
    outcome: str
    viewed_at: dt.datetime
