"""Judging a wallet's response (OpenID4VP 1.0 section 8.6) and logging what the verifier saw.

Every presentation is checked before anything is written: the SD-JWT VC's issuer signature
by a key we publish for the issuer its ``iss`` names, its validity, the key-binding JWT
(signed by the credential's ``cnf`` key, ``aud`` = the request's client identifier,
``nonce`` = the request's, ``iat`` fresh, ``sd_hash`` over what was presented), its ``vct``
against the query, and its disclosures against the query: exactly one of the query's claim
options, so a disclosure the verifier did not ask for refuses the response. Then, as for
every verification (documents/access_log.py), one statement per batch reads each document
fresh through the credential's status-list entry, decides its verdict (revoked, suspended,
expired or valid), writes the holder's access-log row and the ``document.viewed`` event;
a document that is not valid refuses the response, and its row says so, with no fields.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from documents.access_log import recorder_for
from documents.credentials import issuer_url
from documents.issuer_keys import lookup_issuer_key
from documents.mdoc import MdocError, verify_device_response
from documents.sdjwt import CredentialError, VerifiedCredential, verify_sd_jwt
from documents.verdict import refusal_detail
from openid4vp.dcql import SD_JWT, CredentialQuery, DcqlQuery
from openid4vp.mdoc import DOCTYPES, ELEMENTS, element_key, session_transcript
from openid4vp.transactions import Transaction
from wallet_api.kernel import JoseError, Services, b64url_decode, strict_json

__all__ = ["CHANNEL", "ResponseRefused", "judge"]

CHANNEL = "openid4vp"

# Each presentation's document, found through its credential's status-list entry (a
# credential of another issuer or type than it says is no match: nothing is logged).
_READ = """SELECT r.n, c.status AS credential_status, a.id AS holder_account_id, a.level,
       (SELECT name FROM organisations WHERE id = d.issuer_org_id) AS issuer_name,
       (SELECT name FROM organisations WHERE id = r.org) AS verifier_name,
       r.org AS verifier_org_id, r.verifier, d.id, d.doc_type, d.issuer_org_id, d.state,
       d.valid_from, d.valid_until, ARRAY(SELECT jsonb_array_elements_text(r.fields::jsonb)) AS shown
FROM unnest($3::uuid[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
     WITH ORDINALITY AS r(list, idx, org, verifier, issuer, doc_type, fields, n)
JOIN credentials c ON c.status_list_id = r.list AND c.status_idx = r.idx
JOIN documents d ON d.id = c.document_id AND d.issuer_org_id = r.issuer AND d.doc_type = r.doc_type
LEFT JOIN accounts a ON a.person_id = d.holder_id"""


class ResponseRefused(ValueError):
    """The response is refused: ``error`` is the OAuth error code the wallet gets, ``reason`` our slug."""

    def __init__(self, reason: str, detail: str, error: str = "invalid_request") -> None:
        super().__init__(detail)
        self.reason, self.detail, self.error = reason, detail, error

    def as_result(self) -> dict[str, str]:
        """What the verifier reads about the refusal: codes and words, no personal data."""
        return {"error": self.error, "reason": self.reason, "error_description": self.detail}


@dataclass(frozen=True, slots=True)
class _Checked:
    """A presentation that passed every check but its document's status."""

    query: CredentialQuery
    issuer_org_id: str
    #: What the verifier gets: the disclosed claims (mdoc: per namespace), only the asked ones.
    claims: dict[str, Any]
    #: The document fields they show, for the holder's access log.
    shown: list[str]
    list_id: UUID
    idx: int


def vp_token_of(raw: Any) -> dict[str, list[Any]]:
    """The ``vp_token`` object: credential query id → presentations (a JSON text, or already parsed)."""
    try:
        token = strict_json(raw.encode("utf-8")) if isinstance(raw, str) else raw
    except (JoseError, UnicodeError):
        token = None
    if not isinstance(token, dict) or not token:
        raise ResponseRefused("malformed-response", "vp_token must be a JSON object of presentations.")
    for value in token.values():
        if not isinstance(value, list) or len(value) != 1:
            raise ResponseRefused("malformed-response", "Each vp_token entry holds one presentation.")
    return token


def _sd_jwt_status(credential: VerifiedCredential, base_url: str) -> tuple[UUID, int]:
    entry = credential.payload.get("status", {})
    entry = entry.get("status_list") if isinstance(entry, dict) else None
    uri, idx = (entry.get("uri"), entry.get("idx")) if isinstance(entry, dict) else (None, None)
    return _status_entry(uri, idx, base_url)


def _status_entry(uri: Any, idx: Any, base_url: str) -> tuple[UUID, int]:
    prefix = f"{base_url.rstrip('/')}/status-lists/"
    if not isinstance(uri, str) or not uri.startswith(prefix) or not isinstance(idx, int) or isinstance(idx, bool):
        raise ResponseRefused("tampered", "The credential points at no status list of ours.")
    try:
        return UUID(uri[len(prefix) :]), idx
    except ValueError:
        raise ResponseRefused("tampered", "The credential points at no status list of ours.") from None


async def _check_sd_jwt(services: Services, tx: Transaction, query: CredentialQuery, presentation: Any) -> _Checked:
    if not isinstance(presentation, str):
        raise ResponseRefused("malformed-response", f"The presentation for {query.id} must be an SD-JWT text.")
    try:
        credential = await verify_sd_jwt(
            presentation,
            lambda kid: lookup_issuer_key(services.pool, kid),
            audience=tx.client_id,
            nonce=tx.nonce,
            kb_max_age=services.settings.openid4vp.key_binding_max_age_seconds,
        )
    except CredentialError as exc:
        raise ResponseRefused(exc.slug, exc.detail) from None
    if credential.payload.get("iss") != issuer_url(services.settings.public_base_url, credential.issuer.org_id):
        raise ResponseRefused("unknown-issuer", "The credential names another issuer than the key that signed it.")
    if credential.payload.get("vct") != query.doc_type.vct:
        raise ResponseRefused("credential-not-requested", f"The presentation for {query.id} is of another type.")
    if not query.allows(credential.claims):
        raise ResponseRefused(
            "disclosure-not-requested",
            f"The presentation for {query.id} discloses other claims than the request asked for.",
        )
    list_id, idx = _sd_jwt_status(credential, services.settings.public_base_url)
    # In the query's order; the option answered may hold fewer than all the claims asked.
    claims = {name: credential.claims[name] for name in query.fields if name in credential.claims}
    return _Checked(query, credential.issuer.org_id, claims, sorted(claims), list_id, idx)


# Why documents/mdoc refused a DeviceResponse, as the reasons the verifier reads.
_MDOC_REASONS = {
    "untrusted-issuer": "unknown-issuer",
    "device-signature-invalid": "holder-binding",
    "doctype-mismatch": "credential-not-requested",
    "expired": "expired",
    "not-yet-valid": "not-yet-valid",
    "unsupported": "malformed-response",
}


async def _check_mdoc(services: Services, tx: Transaction, query: CredentialQuery, presentation: Any) -> _Checked:
    try:
        device_response = b64url_decode(presentation) if isinstance(presentation, str) else None
    except JoseError:
        device_response = None
    if device_response is None:
        raise ResponseRefused(
            "malformed-response", f"The presentation for {query.id} must be a base64url DeviceResponse."
        )
    transcript = session_transcript(tx.client_id, tx.nonce, tx.enc_kid, tx.response_uri)
    try:
        documents = await verify_device_response(services.pool, device_response, transcript, doc_types=DOCTYPES)
    except MdocError as exc:
        raise ResponseRefused(_MDOC_REASONS.get(exc.code, "tampered"), f"The mdoc was refused ({exc.code}).") from None
    if len(documents) != 1:
        raise ResponseRefused("malformed-response", f"The presentation for {query.id} holds one document.")
    (document,) = documents
    disclosed = {element_key(ns, el) for ns, elements in document.namespaces.items() for el in elements}
    if not query.allows(disclosed):
        raise ResponseRefused(
            "disclosure-not-requested",
            f"The presentation for {query.id} discloses other elements than the request asked for.",
        )
    if document.status is None:
        raise ResponseRefused("tampered", "The mdoc points at no status list of ours.")
    list_id, idx = _status_entry(document.status.uri, document.status.idx, services.settings.public_base_url)
    claims = document.json_namespaces()
    shown = sorted({f for ns, els in claims.items() for el in els if (f := ELEMENTS.get((ns, el))) is not None})
    return _Checked(query, document.issuer_org_id, claims, shown, list_id, idx)


def _answer(checked: _Checked, row: asyncpg.Record) -> dict[str, Any]:
    doc_type = checked.query.doc_type
    return {
        "format": checked.query.format,
        "document_type": doc_type.code,
        "vct": doc_type.vct,
        "title": doc_type.title.as_dict(),
        "issuer": {"id": row["issuer_org_id"], "name": row["issuer_name"]},
        "status": "valid",
        "valid_from": _date(row["valid_from"]),
        "valid_until": _date(row["valid_until"]),
        "holder_level": row["level"],
        "holder_binding": "verified",
        "claims": checked.claims,
        "labels": {name: doc_type.label(name).as_dict() for name in checked.shown},
    }


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


async def judge(services: Services, tx: Transaction, query: DcqlQuery, state: Any, vp_token: Any) -> dict[str, Any]:
    """The verifier's result for a response (``credentials`` by query id); :class:`ResponseRefused` otherwise."""
    if not isinstance(state, str) or not hmac.compare_digest(state.encode(), tx.state.encode()):
        raise ResponseRefused("state-mismatch", "The response does not carry this request's state.")
    token = vp_token_of(vp_token)
    unknown = [key for key in token if query.by_id(key) is None]
    if unknown or not query.returned_ids_satisfy(token):
        raise ResponseRefused(
            "credential-not-requested", "The presented credentials are not a set the request asked for."
        )
    checked = []
    for key, (presentation,) in token.items():
        credential_query = query.by_id(key)
        assert credential_query is not None
        check = _check_sd_jwt if credential_query.format == SD_JWT else _check_mdoc
        checked.append(await check(services, tx, credential_query, presentation))
    recorder = recorder_for(services.batchers, services.pool, CHANNEL, _READ)
    rows = [
        await recorder.submit(
            (
                c.list_id,
                c.idx,
                tx.org,
                tx.verifier,
                c.issuer_org_id,
                c.query.doc_type.code,
                msgspec.json.encode(c.shown).decode(),
            )
        )
        for c in checked
    ]
    results: dict[str, Any] = {}
    for c, row in zip(checked, rows, strict=True):
        if row is None:
            raise ResponseRefused("tampered", "A credential points at no credential of its issuer.")
        if row["outcome"] != "valid":
            raise ResponseRefused(row["outcome"], refusal_detail(row["outcome"], row["valid_until"]))
        results[c.query.id] = _answer(c, row)
    return {"credentials": results}
