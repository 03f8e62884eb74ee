"""Verifying a DeviceResponse (ISO/IEC 18013-5 §8.3.2.1.2) against our published IACA roots.

For each document: the issuer's COSE_Sign1 with the Document Signer certificate of its
``x5chain``; that certificate chains to one of our IACA roots and has the DS profile; the
chain and the MSO are within their validity; the document's docType is the MSO's and one
asked for; every returned item's digest is the MSO's digest for its ID; and the device
signature (``deviceSignature``, a detached COSE_Sign1 over DeviceAuthentication =
["DeviceAuthentication", SessionTranscript, DocType, DeviceNameSpacesBytes]) was made by
the MSO's device key over the caller's SessionTranscript (OID4VP builds its own).

``deviceMac`` is refused (:class:`UnsupportedMdoc`): a MAC needs an ephemeral reader key
agreed with the device, which the proximity flow has and OID4VP does not (HAIP requires
the signature too). Device-signed elements are checked as part of the signature but not
returned: nothing vouches for them but the holder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import cbor2

from documents.mdoc.cbor import DECODE_ERRORS, jwk_of_cose_key, loads_exact, public_key_of_cose_key, unembed
from documents.mdoc.certificates import CheckedSigner, TrustedRoot, check_document_signer
from documents.mdoc.cose import X5CHAIN, Sign1, parse_sign1, verify_sign1
from documents.mdoc.elements import MDL_DOCTYPE
from documents.mdoc.errors import (
    DeviceSignatureInvalid,
    DigestMismatch,
    DocTypeMismatch,
    IssuerSignatureInvalid,
    MalformedMdoc,
    MdocError,
    MdocNotValid,
    UnsupportedMdoc,
    UntrustedIssuer,
)
from documents.mdoc.trust import trust
from wallet_api.kernel import b64url_encode

__all__ = [
    "MAX_DEVICE_RESPONSE_BYTES",
    "StatusReference",
    "VerifiedDocument",
    "check_device_response",
    "check_issuer_signed",
    "verify_device_response",
]

#: Larger than any licence (a portrait is at most 16 KiB) times the documents one asks for.
MAX_DEVICE_RESPONSE_BYTES = 256 * 1024
_MAX_DOCUMENTS = 10
_MIN_RANDOM = 16
_LEEWAY = dt.timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class StatusReference:
    """Where the mdoc's status is (Token Status List): the list's URI and the entry's index."""

    uri: str
    idx: int


@dataclass(frozen=True, slots=True)
class VerifiedDocument:
    doc_type: str
    #: The agency whose IACA root the Document Signer chains to.
    issuer_org_id: str
    #: The disclosed, issuer-signed elements per namespace, as CBOR decodes them
    #: (``full-date`` → ``date``, ``tdate`` → ``datetime``, ``bstr`` → ``bytes``).
    namespaces: dict[str, dict[str, Any]]
    status: StatusReference | None
    signed: dt.datetime
    valid_from: dt.datetime
    valid_until: dt.datetime
    device_jwk: dict[str, str] = field(default_factory=dict)

    def json_namespaces(self) -> dict[str, dict[str, Any]]:
        """The elements as JSON values: dates in ISO 8601, bytes in base64url."""
        return {ns: {k: _json_value(v) for k, v in elements.items()} for ns, elements in self.namespaces.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return b64url_encode(value)
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


# Chains already checked, by DS certificate: the same few certificates sign every mdoc, and
# the result depends only on the certificate and the roots (times are checked each call).
# Each entry keeps the roots it was checked against; another set of roots checks again.
_checked: dict[bytes, tuple[list[TrustedRoot], CheckedSigner]] = {}


def _signer(der: bytes, roots: list[TrustedRoot]) -> CheckedSigner:
    hit = _checked.get(der)
    if hit is not None and hit[0] is roots:
        return hit[1]
    signer = check_document_signer(der, roots)
    if len(_checked) > 1024:
        _checked.clear()
    _checked[der] = (roots, signer)
    return signer


def _x5chain_leaf(sign: Sign1) -> bytes:
    chain = sign.header(X5CHAIN)
    if isinstance(chain, list) and chain:
        chain = chain[0]  # the DS certificate comes first; our roots anchor the rest
    if not isinstance(chain, bytes):
        raise MalformedMdoc("issuerAuth has no x5chain")
    return chain


def _moment(value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError("validityInfo times must be tdate")
    return value


def _status(mso: Mapping[str, Any]) -> StatusReference | None:
    status = mso.get("status")
    if status is None:
        return None
    ref = status["status_list"]
    uri, idx = ref["uri"], ref["idx"]
    if not isinstance(uri, str) or not isinstance(idx, int) or isinstance(idx, bool) or idx < 0:
        raise ValueError("malformed status_list reference")
    return StatusReference(uri, idx)


@dataclass(frozen=True, slots=True)
class _IssuerChecked:
    document: VerifiedDocument
    device_key: Any


def _issuer_signed(
    issuer_signed: Any, doc_type: str, roots: list[TrustedRoot], revoked: frozenset[bytes], now: dt.datetime
) -> _IssuerChecked:
    if not isinstance(issuer_signed, dict) or not set(issuer_signed) <= {"nameSpaces", "issuerAuth"}:
        raise ValueError("issuerSigned is not a map of nameSpaces and issuerAuth")
    sign = parse_sign1(issuer_signed["issuerAuth"])
    leaf = _x5chain_leaf(sign)
    if hashlib.sha256(leaf).digest() in revoked:
        raise UntrustedIssuer("the Document Signer certificate was revoked")
    signer = _signer(leaf, roots)
    signer.check_time(now)
    if not verify_sign1(sign, signer.public_key):
        raise IssuerSignatureInvalid("the issuer's signature over the MSO does not verify")
    if sign.payload is None:
        raise MalformedMdoc("issuerAuth carries no MSO")
    _, mso = unembed(loads_exact(sign.payload))
    if mso["version"] != "1.0" or mso["digestAlgorithm"] != "SHA-256":
        raise UnsupportedMdoc("only MSO version 1.0 with SHA-256 digests")
    if mso["docType"] != doc_type:
        raise DocTypeMismatch("the document's docType is not the one its issuer signed")
    validity = mso["validityInfo"]
    signed, valid_from, valid_until = (
        _moment(validity["signed"]),
        _moment(validity["validFrom"]),
        _moment(validity["validUntil"]),
    )
    if not signer.valid_from <= signed <= signer.valid_until:
        raise UntrustedIssuer("the MSO was signed outside its Document Signer certificate's validity")
    if now + _LEEWAY < valid_from:
        raise MdocNotValid("not-yet-valid", "the mdoc is not valid yet")
    if now - _LEEWAY > valid_until:
        raise MdocNotValid("expired", "the mdoc has expired")
    digests = mso["valueDigests"]
    device_key = mso["deviceKeyInfo"]["deviceKey"]
    disclosed: dict[str, dict[str, Any]] = {}
    name_spaces = issuer_signed.get("nameSpaces", {})
    if not isinstance(name_spaces, dict):
        raise ValueError("nameSpaces is not a map")
    for namespace, items in name_spaces.items():
        if not isinstance(namespace, str) or not isinstance(items, list) or namespace in disclosed:
            raise ValueError("malformed namespace")
        expected = digests.get(namespace)
        elements: dict[str, Any] = {}
        seen: set[int] = set()
        for tagged in items:
            inner, item = unembed(tagged)
            digest_id, name, salt = item["digestID"], item["elementIdentifier"], item["random"]
            if not isinstance(name, str) or not isinstance(salt, bytes) or len(salt) < _MIN_RANDOM:
                raise ValueError("malformed IssuerSignedItem")
            if not isinstance(expected, dict) or digest_id in seen or name in elements:
                raise DigestMismatch(f"an item of {namespace} is repeated or not covered by the MSO")
            seen.add(digest_id)
            wrapped = cbor2.dumps(cbor2.CBORTag(24, inner))
            if expected.get(digest_id) != hashlib.sha256(wrapped).digest():
                raise DigestMismatch(f"{namespace}/{name} is not the value its issuer signed")
            elements[name] = item["elementValue"]
        disclosed[namespace] = elements
    return _IssuerChecked(
        VerifiedDocument(
            doc_type=doc_type,
            issuer_org_id=signer.org_id,
            namespaces=disclosed,
            status=_status(mso),
            signed=signed,
            valid_from=valid_from,
            valid_until=valid_until,
            device_jwk=jwk_of_cose_key(device_key),
        ),
        device_key,
    )


def _device_authentication(transcript: bytes, doc_type: str, name_spaces_bytes: bytes) -> bytes:
    """DeviceAuthenticationBytes, with the caller's SessionTranscript embedded byte for byte."""
    inner = (
        b"\x84"
        + cbor2.dumps("DeviceAuthentication")
        + transcript
        + cbor2.dumps(doc_type)
        + cbor2.dumps(cbor2.CBORTag(24, name_spaces_bytes))
    )
    return cbor2.dumps(cbor2.CBORTag(24, inner))


def _device_signed(device_signed: Any, device_key: Any, doc_type: str, transcript: bytes) -> None:
    if not isinstance(device_signed, dict) or not isinstance(device_signed["deviceAuth"], dict):
        raise ValueError("deviceSigned is not a map")
    auth = device_signed["deviceAuth"]
    if "deviceMac" in auth:
        raise UnsupportedMdoc("deviceMac is not accepted: sign with the device key (deviceSignature)")
    name_spaces_bytes, name_spaces = unembed(device_signed["nameSpaces"])
    if not isinstance(name_spaces, dict):
        raise ValueError("DeviceNameSpaces is not a map")
    sign = parse_sign1(auth["deviceSignature"])
    if sign.payload is not None:
        raise MalformedMdoc("the device signature must be detached")
    payload = _device_authentication(transcript, doc_type, name_spaces_bytes)
    if not verify_sign1(sign, public_key_of_cose_key(device_key), detached_payload=payload):
        raise DeviceSignatureInvalid("the device signature does not verify over this session transcript")


def _transcript_bytes(session_transcript: bytes | Any) -> bytes:
    if isinstance(session_transcript, bytes):
        loads_exact(session_transcript)  # one well-formed CBOR item, or the caller's bug
        return session_transcript
    return cbor2.dumps(session_transcript)


def _guarded(what: str, step: Any, *args: Any) -> Any:
    """Run a parsing step; whatever hostile bytes make the decoders raise becomes MalformedMdoc."""
    try:
        return step(*args)
    except MdocError:
        raise
    except DECODE_ERRORS as exc:
        raise MalformedMdoc(f"{what} is not the structure ISO 18013-5 defines") from exc


def check_issuer_signed(
    issuer_signed: bytes,
    *,
    roots: list[TrustedRoot],
    revoked: frozenset[bytes] = frozenset(),
    now: dt.datetime | None = None,
    doc_type: str = MDL_DOCTYPE,
) -> VerifiedDocument:
    """Verify an IssuerSigned alone (as minted, every element disclosed): no device signature."""
    moment = now or dt.datetime.now(dt.UTC)
    value = _guarded("IssuerSigned", loads_exact, issuer_signed)
    checked: _IssuerChecked = _guarded("IssuerSigned", _issuer_signed, value, doc_type, roots, revoked, moment)
    return checked.document


def check_device_response(
    device_response: bytes,
    session_transcript: bytes | Any,
    *,
    roots: list[TrustedRoot],
    revoked: frozenset[bytes] = frozenset(),
    now: dt.datetime | None = None,
    doc_types: Collection[str] = (MDL_DOCTYPE,),
) -> list[VerifiedDocument]:
    """Verify every document of a DeviceResponse; raises an :class:`MdocError` on the first refusal.
    ``revoked``: SHA-256 digests of revoked DS certificates (:func:`documents.mdoc.trust.trust`)."""
    if len(device_response) > MAX_DEVICE_RESPONSE_BYTES:
        raise MalformedMdoc("the DeviceResponse is larger than any we accept")
    transcript = _transcript_bytes(session_transcript)
    moment = now or dt.datetime.now(dt.UTC)
    response = _guarded("DeviceResponse", loads_exact, device_response)
    documents = _guarded("DeviceResponse", _documents, response)
    verified: list[VerifiedDocument] = []
    for document in documents:
        doc_type = _guarded("Document", operator.getitem, document, "docType")
        if not isinstance(doc_type, str) or doc_type not in doc_types:
            raise DocTypeMismatch("a document of a type that was not asked for")
        issuer_signed = _guarded("Document", operator.getitem, document, "issuerSigned")
        checked: _IssuerChecked = _guarded(
            "IssuerSigned", _issuer_signed, issuer_signed, doc_type, roots, revoked, moment
        )
        _guarded("DeviceSigned", _device_signed, document.get("deviceSigned"), checked.device_key, doc_type, transcript)
        verified.append(checked.document)
    return verified


def _documents(response: Any) -> list[dict[str, Any]]:
    if not isinstance(response, dict) or not isinstance(response["version"], str):
        raise ValueError("DeviceResponse is not a map with a version")
    if response["version"] != "1.0":
        # The one version ISO 18013-5 defines; the wrapper is unsigned, so nothing else is read loosely.
        raise UnsupportedMdoc("only DeviceResponse version 1.0")
    if response["status"] != 0:
        raise MalformedMdoc(f"the wallet answered with status {response['status']!r}")
    documents = response.get("documents")
    if not isinstance(documents, list) or not documents or len(documents) > _MAX_DOCUMENTS:
        raise MalformedMdoc("a DeviceResponse carries one to ten documents")
    if not all(isinstance(d, dict) for d in documents):
        raise ValueError("a document is not a map")
    return documents


async def verify_device_response(
    pool: asyncpg.Pool,
    device_response: bytes,
    session_transcript: bytes | Any,
    *,
    now: dt.datetime | None = None,
    doc_types: Collection[str] = (MDL_DOCTYPE,),
) -> list[VerifiedDocument]:
    """:func:`check_device_response` against the IACA roots we publish and the Document
    Signers we revoked (re-read once when a chain reaches none of the cached roots: a root
    made meanwhile)."""
    known = await trust(pool)
    try:
        return check_device_response(
            device_response, session_transcript, roots=known.roots, revoked=known.revoked, now=now, doc_types=doc_types
        )
    except UntrustedIssuer:
        fresh = await trust(pool, refresh=True)
        return check_device_response(
            device_response, session_transcript, roots=fresh.roots, revoked=fresh.revoked, now=now, doc_types=doc_types
        )
