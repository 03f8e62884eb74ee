"""The CBOR shapes ISO 18013-5 is written in: tdate, full-date, embedded CBOR (tag 24), COSE_Key.

cbor2 does the encoding; this module only fixes the forms the standard asks for, so that
no value's form depends on cbor2's defaults (which changed across its versions).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from wallet_api.kernel import b64url_decode, b64url_encode, ec_public_key

__all__ = [
    "DECODE_ERRORS",
    "cose_key_of_jwk",
    "embedded",
    "full_date",
    "jwk_of_cose_key",
    "loads_exact",
    "public_key_of_cose_key",
    "tdate",
    "unembed",
]

#: What decoding hostile bytes may raise; callers turn these into ``MalformedMdoc``.
DECODE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    EOFError,
    cbor2.CBORDecodeError,
)

#: COSE_Key labels (RFC 9053): kty 1 = EC2, crv -1 = 1 (P-256), x -2, y -3.
_KTY, _EC2, _CRV, _P256, _X, _Y = 1, 2, -1, 1, -2, -3


def tdate(moment: dt.datetime) -> cbor2.CBORTag:
    """``tdate`` (tag 0): RFC 3339 in UTC without fractions, as ISO 18013-5 requires."""
    return cbor2.CBORTag(0, moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ"))


def full_date(day: dt.date) -> cbor2.CBORTag:
    """``full-date`` (tag 1004, RFC 8943): the day as ``YYYY-MM-DD`` text."""
    return cbor2.CBORTag(1004, day.isoformat())


def embedded(value: Any) -> cbor2.CBORTag:
    """``#6.24(bstr .cbor value)``: CBOR carried as bytes, so digests and signatures cover exact bytes."""
    return cbor2.CBORTag(24, cbor2.dumps(value))


def unembed(value: Any) -> tuple[bytes, Any]:
    """The inner bytes and decoded value of a tag-24 item; ``ValueError`` if it is not one."""
    if not isinstance(value, cbor2.CBORTag) or value.tag != 24 or not isinstance(value.value, bytes):
        raise ValueError("expected embedded CBOR (tag 24)")
    return value.value, loads_exact(value.value)


def loads_exact(data: bytes) -> Any:
    """One CBOR item and nothing after it (trailing bytes would be unsigned slack)."""
    fp = io.BytesIO(data)
    value = cbor2.CBORDecoder(fp).decode()
    if fp.tell() != len(data):
        raise ValueError("trailing bytes after the CBOR item")
    return value


def cose_key_of_jwk(jwk: Mapping[str, Any]) -> dict[int, Any]:
    """The COSE_Key of a P-256 public JWK (checked as the JOSE reader checks it)."""
    ec_public_key(jwk)
    return {_KTY: _EC2, _CRV: _P256, _X: b64url_decode(jwk["x"]), _Y: b64url_decode(jwk["y"])}


def jwk_of_cose_key(key: Any) -> dict[str, str]:
    """The public JWK of an EC2 P-256 COSE_Key; ``ValueError`` for anything else."""
    if not isinstance(key, dict) or key.get(_KTY) != _EC2 or key.get(_CRV) != _P256:
        raise ValueError("device key is not an EC2 P-256 COSE_Key")
    x, y = key.get(_X), key.get(_Y)
    if not isinstance(x, bytes) or not isinstance(y, bytes) or len(x) != 32 or len(y) != 32:
        raise ValueError("device key coordinates are not 32 bytes each")
    if -4 in key:
        raise ValueError("a private key where a public one belongs")
    return {"kty": "EC", "crv": "P-256", "x": b64url_encode(x), "y": b64url_encode(y)}


def public_key_of_cose_key(key: Any) -> ec.EllipticCurvePublicKey:
    return ec_public_key(jwk_of_cose_key(key))
