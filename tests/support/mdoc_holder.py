"""A test holder for mdocs, written from ISO 18013-5 with cbor2 and cryptography only (none of
documents/mdoc): it picks elements of an IssuerSigned and signs a DeviceResponse over a
session transcript, as a wallet would; and it reads our structures back for assertions."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

MDL = "org.iso.18013.5.1.mDL"


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    return {"kty": "EC", "crv": "P-256", "x": b64(numbers.x), "y": b64(numbers.y)}


def items(issuer_signed: Mapping[str, Any], namespace: str) -> list[dict[str, Any]]:
    """The decoded IssuerSignedItems of a namespace."""
    return [cbor2.loads(t.value) for t in issuer_signed["nameSpaces"].get(namespace, [])]


def mso(issuer_signed: Mapping[str, Any]) -> dict[str, Any]:
    tagged = cbor2.loads(issuer_signed["issuerAuth"][2])
    assert tagged.tag == 24
    decoded: dict[str, Any] = cbor2.loads(tagged.value)
    return decoded


def es256(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def openid4vp_transcript(client_id: str, nonce: str, response_uri: str) -> list[Any]:
    """SessionTranscript of OID4VP 1.0 (Appendix B.2.6.1) for a response that is not encrypted."""
    import hashlib

    info = cbor2.dumps([client_id, nonce, None, response_uri])
    return [None, None, ["OpenID4VPHandover", hashlib.sha256(info).digest()]]


def device_response(
    issuer_signed_bytes: bytes,
    device_key: ec.EllipticCurvePrivateKey,
    session_transcript: Any,
    *,
    disclose: Mapping[str, set[str]] | None = None,
    doc_type: str = MDL,
    mac: bool = False,
) -> bytes:
    """A DeviceResponse with the chosen elements (all when ``disclose`` is None)."""
    issuer_signed = cbor2.loads(issuer_signed_bytes)
    chosen = {
        ns: [t for t in tagged if disclose is None or cbor2.loads(t.value)["elementIdentifier"] in disclose.get(ns, ())]
        for ns, tagged in issuer_signed["nameSpaces"].items()
        if disclose is None or ns in disclose
    }
    device_name_spaces = cbor2.dumps({})
    authentication = ["DeviceAuthentication", session_transcript, doc_type, cbor2.CBORTag(24, device_name_spaces)]
    payload = cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(authentication)))
    protected = cbor2.dumps({1: -7})
    signature = es256(device_key, cbor2.dumps(["Signature1", protected, b"", payload]))
    auth: dict[str, Any] = (
        {"deviceMac": [cbor2.dumps({1: 5}), {}, None, b"\0" * 32]}
        if mac
        else {"deviceSignature": [protected, {}, None, signature]}
    )
    document = {
        "docType": doc_type,
        "issuerSigned": {"nameSpaces": chosen, "issuerAuth": issuer_signed["issuerAuth"]},
        "deviceSigned": {"nameSpaces": cbor2.CBORTag(24, device_name_spaces), "deviceAuth": auth},
    }
    return cbor2.dumps({"version": "1.0", "documents": [document], "status": 0})
