"""COSE_Sign1 (RFC 9052) as ISO 18013-5 uses it: ES256 only, ``x5chain`` (RFC 9360) for the issuer.

Written here rather than taken from pycose: we need one algorithm and one structure, and a
reader that refuses what we do not use (another algorithm, ``crit``, an algorithm named
only in the unprotected header) is shorter to write than to configure. The bytes it makes
are checked by independent mdoc libraries in the tests (tests/interop/).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from documents.mdoc.cbor import loads_exact
from wallet_api.kernel import SigningKey, es256_verify

__all__ = ["ALG", "ES256", "X5CHAIN", "Sign1", "parse_sign1", "sign1", "verify_sign1"]

#: Header labels: alg (1), crit (2), x5chain (33); ES256 is -7.
ALG, CRIT, X5CHAIN, ES256 = 1, 2, 33, -7


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    # Sig_structure for COSE_Sign1 with empty external_aad.
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign1(key: SigningKey, payload: bytes, *, unprotected: dict[int, Any], detached: bool = False) -> list[Any]:
    """An untagged COSE_Sign1 (the form ISO 18013-5 embeds) over ``payload`` with ES256."""
    protected = cbor2.dumps({ALG: ES256})
    signature = key.sign_es256(_to_be_signed(protected, payload))
    return [protected, unprotected, None if detached else payload, signature]


@dataclass(frozen=True, slots=True)
class Sign1:
    protected: bytes
    unprotected: dict[Any, Any]
    #: None when detached (the device signature: the payload is rebuilt by the reader).
    payload: bytes | None
    signature: bytes

    def header(self, label: int) -> Any:
        """A header parameter, protected one first (RFC 9052 forbids it in both)."""
        found = loads_exact(self.protected).get(label) if self.protected else None
        return found if found is not None else self.unprotected.get(label)


def parse_sign1(value: Any) -> Sign1:
    """The parts of a COSE_Sign1 (tagged 18 or not); ``ValueError`` when it is not one we accept."""
    if isinstance(value, cbor2.CBORTag):
        if value.tag != 18:
            raise ValueError("not a COSE_Sign1")
        value = value.value
    if not isinstance(value, list) or len(value) != 4:
        raise ValueError("a COSE_Sign1 is an array of four")
    protected, unprotected, payload, signature = value
    if not isinstance(protected, bytes) or not isinstance(unprotected, dict) or not isinstance(signature, bytes):
        raise ValueError("COSE_Sign1 parts of the wrong types")
    if payload is not None and not isinstance(payload, bytes):
        raise ValueError("COSE_Sign1 payload is neither bytes nor nil")
    header = loads_exact(protected) if protected else {}
    if not isinstance(header, dict) or not all(type(label) in (int, str) for label in (*header, *unprotected)):
        # RFC 9052 §3.1: a label is an int or a tstr. cbor2 reads simple(33) as a value equal
        # to 33, so without this an x5chain under that label would be found as if well-formed.
        raise ValueError("header labels are integers or text")
    if header.get(ALG) != ES256 or ALG in unprotected:
        raise ValueError("only ES256, named in the protected header")
    if CRIT in header or CRIT in unprotected or set(header) & set(unprotected):
        raise ValueError("critical or repeated header parameters")
    return Sign1(protected, unprotected, payload, signature)


def verify_sign1(sign: Sign1, key: ec.EllipticCurvePublicKey, *, detached_payload: bytes | None = None) -> bool:
    """Whether ``key`` made the signature (over the detached payload when one is given)."""
    payload = sign.payload if detached_payload is None else detached_payload
    if payload is None or (detached_payload is not None and sign.payload is not None):
        return False
    return es256_verify(key, sign.signature, _to_be_signed(sign.protected, payload))
