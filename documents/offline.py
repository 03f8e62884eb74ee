"""Offline QR payloads: the chosen fields as CBOR claims in a COSE_Sign1 (ES256), Base45-encoded.

Layout, after the version prefix ``VN2:``::

    Base45( COSE_Sign1 = #6.18([ protected: bstr({1: -7, 4: kid}), unprotected: {},
                                 payload: bstr(deflate(CBOR claims, dictionary)), signature: bstr(64) ]) )

    claims = { 1: issuer organisation id, 4: exp, 6: iat,
              -1: document type code, -2: [status list id (16 bytes), index],
              -3: {field key: value}, -4: holder's identification level }

As in the EU Digital COVID Certificate and MOSIP Claim 169 the claims are CBOR, signed with
COSE and carried in Base45 (the QR alphanumeric alphabet). One difference, on purpose: the
claims are compressed *before* signing, so the signature covers every byte of the QR text
(a deflate stream has slack bits that a checker of a compressed envelope cannot see).
Field keys are small integers declared by each document type; nested records (licence
classes) are arrays in schema field order; dates are CBOR tag 100 (days since 1970-01-01).
``kid`` is the first 9 bytes of the key's RFC 7638 thumbprint (the first 12 characters of
its JWK ``kid``).

Size: the claims are raw deflate (RFC 1951: no zlib header or checksum, the signature
already covers every byte) with a preset dictionary of common Vietnamese words
(``offline_dictionary.py``). A full driving licence with a 250-character address and
three classes takes 556-570 of the 600 alphanumeric characters a version-15 QR holds at
error-correction level M; a payload longer than that is refused
(:class:`OfflinePayloadTooLarge`): the holder chooses fewer fields.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import types
import typing
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import cbor2
import msgspec

from documents.base45 import b45decode, b45encode
from documents.issuer_keys import IssuerKey
from documents.offline_dictionary import OFFLINE_DICTIONARY
from documents.sdjwt import CredentialError
from documents.types import DocumentType, get_type
from documents.verdict import window_verdict
from wallet_api.kernel import Problem, SigningKey, b64url_decode, b64url_encode, es256_verify

__all__ = [
    "MAX_LIFETIME_SECONDS",
    "MAX_QR_CHARACTERS",
    "PREFIX",
    "OfflineClaims",
    "OfflineEnvelope",
    "OfflinePayloadTooLarge",
    "check_offline",
    "encode_offline",
    "open_offline",
    "peek_issuer",
    "short_kid",
]

PREFIX = "VN2:"
MAX_LIFETIME_SECONDS = 24 * 3600
#: Alphanumeric characters of a version-15 QR code at error-correction level M: the largest
#: code a phone screen shows and a roadside scanner reads reliably.
MAX_QR_CHARACTERS = 600
_EPOCH = dt.date(1970, 1, 1)
_MAX_CLAIMS_BYTES = 16 * 1024
#: Raw deflate (negative window bits): no zlib header, dictionary id or checksum in the QR.
_WBITS = -15


class OfflinePayloadTooLarge(Problem):
    """The chosen fields do not fit one offline QR code; the holder should choose fewer."""

    status, slug, title = 422, "offline-payload-too-large", "The chosen fields do not fit an offline QR code"


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, _WBITS, 9, zlib.Z_DEFAULT_STRATEGY, zdict=OFFLINE_DICTIONARY)
    return packer.compress(data) + packer.flush()


def _inflate(data: bytes) -> bytes:
    """The claims; raises ``ValueError`` when they are larger than any real payload or cut short."""
    inflater = zlib.decompressobj(_WBITS, zdict=OFFLINE_DICTIONARY)
    raw = inflater.decompress(data, _MAX_CLAIMS_BYTES)
    if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
        raise ValueError("claims too large, truncated or followed by other bytes")
    return raw


def short_kid(kid: str) -> bytes:
    """The COSE ``kid`` for a JWK ``kid`` (base64url thumbprint): its first 9 bytes."""
    return b64url_decode(kid[:12])


def _to_cbor(value: Any) -> Any:
    if isinstance(value, dt.date):
        return cbor2.CBORTag(100, (value - _EPOCH).days)
    if isinstance(value, msgspec.Struct):
        # Nested records travel as arrays in field order: no repeated key names in the QR.
        return [_to_cbor(getattr(value, k)) for k in value.__struct_fields__]
    if isinstance(value, list):
        return [_to_cbor(v) for v in value]
    return value


@functools.cache
def _hints(tp: type) -> dict[str, Any]:
    return typing.get_type_hints(tp, include_extras=True)


@functools.cache
def _bare(tp: Any) -> Any:
    """The type without ``Annotated`` and ``Optional`` wrappers (cached: types are few)."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = options[0] if len(options) == 1 else Any
    return tp


def _from_cbor(value: Any, tp: Any) -> Any:
    """Back to the JSON form of the claims, guided by the field's declared type."""
    tp = _bare(tp)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, cbor2.CBORTag):
        raise ValueError("unexpected CBOR tag")
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if not isinstance(value, list) or len(value) != len(tp.__struct_fields__):
            raise ValueError("malformed record")
        hints = _hints(tp)
        return {
            name: _from_cbor(v, hints[name])
            for name, v in zip(tp.__struct_fields__, value, strict=True)
            if v is not None
        }
    if isinstance(value, list):
        item = typing.get_args(tp)[0] if typing.get_origin(tp) is list else Any
        return [_from_cbor(v, item) for v in value]
    if isinstance(value, dict):
        raise ValueError("unexpected map")
    return value


def encode_offline(
    key: SigningKey,
    *,
    org_id: str,
    doc_type: DocumentType,
    claims: Mapping[str, Any],
    revealed: Mapping[str, Any],
    status_list_id: UUID,
    status_idx: int,
    level: int,
    iat: int,
    exp: int,
) -> str:
    """The QR text for ``revealed`` fields (values as in ``claims``; derived ones already computed)."""
    typed = msgspec.convert(dict(claims), doc_type.schema)
    fields: dict[int, Any] = {}
    for name, value in revealed.items():
        if name in doc_type.field_names:
            value = _to_cbor(getattr(typed, name))
        fields[doc_type.offline_keys[name]] = value
    body = {1: org_id, 4: exp, 6: iat, -1: doc_type.code, -2: [status_list_id.bytes, status_idx], -3: fields, -4: level}
    payload = _deflate(cbor2.dumps(body))
    protected = cbor2.dumps({1: -7, 4: short_kid(key.kid)})
    signature = key.sign_es256(cbor2.dumps(["Signature1", protected, b"", payload]))
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))
    text = PREFIX + b45encode(cose)
    if len(text) > MAX_QR_CHARACTERS:
        raise OfflinePayloadTooLarge(
            f"These fields take {len(text)} characters and an offline QR code holds {MAX_QR_CHARACTERS}: "
            "choose fewer fields, or show an online code.",
            characters=len(text),
            max_characters=MAX_QR_CHARACTERS,
        )
    return text


@dataclass(frozen=True, slots=True)
class OfflineEnvelope:
    """A parsed but not yet verified payload."""

    kid: bytes
    protected: bytes
    payload: bytes
    signature: bytes


def _loads_exact(data: bytes) -> Any:
    fp = io.BytesIO(data)
    value = cbor2.CBORDecoder(fp).decode()
    if fp.tell() != len(data):
        raise ValueError("trailing bytes")
    return value


def open_offline(text: str) -> OfflineEnvelope:
    """Parse the QR text; raises ``CredentialError`` (malformed or tampered)."""
    if not text.startswith(PREFIX):
        raise CredentialError("malformed-payload", "This is not a wallet QR code (or a newer version of one).")
    try:
        cose = _loads_exact(b45decode(text[len(PREFIX) :]))
        if not isinstance(cose, cbor2.CBORTag) or cose.tag != 18:
            raise ValueError("not COSE_Sign1")
        protected, unprotected, payload, signature = cose.value
        header = _loads_exact(protected)
        if (
            not isinstance(header, dict)
            or set(header) != {1, 4}
            or header[1] != -7
            or not isinstance(header[4], bytes)
            or unprotected != {}
            or not isinstance(payload, bytes)
            or not isinstance(signature, bytes)
        ):
            raise ValueError("unexpected COSE headers")
    except (ValueError, TypeError, cbor2.CBORDecodeError, EOFError) as exc:
        raise CredentialError("tampered", "The QR payload is damaged or was altered.") from exc
    return OfflineEnvelope(kid=header[4], protected=protected, payload=payload, signature=signature)


@dataclass(frozen=True, slots=True)
class OfflineClaims:
    org_id: str
    doc_type: DocumentType
    fields: dict[str, Any]
    status_list_id: UUID
    status_idx: int
    level: int
    iat: int
    exp: int
    kid: str


_OUTSIDE_WINDOW = {
    "expired": "The QR code has expired; ask the holder to show a fresh one.",
    "not-yet-valid": "The QR code is not valid yet (check the device clock).",
}


def check_offline(envelope: OfflineEnvelope, issuer: IssuerKey | None, *, now: int, leeway: int = 60) -> OfflineClaims:
    """Verify signature, issuer and validity window; the status check is the caller's."""
    if issuer is None or short_kid(issuer.kid) != envelope.kid:
        raise CredentialError("unknown-issuer", "The QR code was signed by a key we do not know.")
    to_be_signed = cbor2.dumps(["Signature1", envelope.protected, b"", envelope.payload])
    if not es256_verify(issuer.public_key, envelope.signature, to_be_signed):
        raise CredentialError("tampered", "The QR code's signature does not verify.")
    try:
        body = _loads_exact(_inflate(envelope.payload))
        org_id, exp, iat, code = body[1], body[4], body[6], body[-1]
        list_id, idx = body[-2]
        level, fields = body[-4], body[-3]
        doc_type = get_type(code)
        if doc_type is None:
            raise ValueError("unknown document type")
        names = {v: k for k, v in doc_type.offline_keys.items()}
        hints = _hints(doc_type.schema)
        revealed = {names[k]: _from_cbor(v, hints.get(names[k], bool)) for k, v in fields.items()}
        status_list_id = UUID(bytes=list_id)
    except (ValueError, TypeError, KeyError, IndexError, zlib.error, cbor2.CBORDecodeError, EOFError) as exc:
        raise CredentialError("tampered", "The QR code's claims cannot be read.") from exc
    if org_id != issuer.org_id:
        raise CredentialError("unknown-issuer", "The QR code names another issuer than the key that signed it.")
    if not all(isinstance(v, int) for v in (exp, iat, idx, level)) or exp - iat > MAX_LIFETIME_SECONDS:
        raise CredentialError("tampered", "The QR code's validity is not acceptable.")
    outside = window_verdict(now, not_before=iat, expires=exp, leeway=leeway)
    if outside is not None:
        raise CredentialError(outside, _OUTSIDE_WINDOW[outside])
    return OfflineClaims(
        org_id=org_id,
        doc_type=doc_type,
        fields=revealed,
        status_list_id=status_list_id,
        status_idx=idx,
        level=level,
        iat=iat,
        exp=exp,
        kid=issuer.kid,
    )


def peek_issuer(envelope: OfflineEnvelope) -> str | None:
    """The issuer named in the (not yet verified) claims, to know whose keys to fetch."""
    try:
        body = _loads_exact(_inflate(envelope.payload))
        org_id = body[1]
    except (ValueError, TypeError, KeyError, zlib.error, cbor2.CBORDecodeError, EOFError):
        return None
    return org_id if isinstance(org_id, str) and 0 < len(org_id) <= 64 else None


def kid_prefix(envelope: OfflineEnvelope) -> str:
    """The first 12 characters of the signing key's JWK ``kid`` (to look the key up)."""
    return b64url_encode(envelope.kid)
