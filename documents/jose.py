"""Strict JOSE helpers: base64url without slack, ES256 compact JWS signing and checking.

Decoding is strict on purpose: base64url text that is not the canonical encoding of its
bytes (padding, unused trailing bits, foreign characters) is refused, so that changing any
character of a signed object changes what is verified.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from wallet_api.jsonbody import JsonTooDeep, check_depth
from wallet_api.keys.provider import SigningKey
from wallet_api.keys.signatures import device_signature_der

__all__ = [
    "JoseError",
    "b64url_decode",
    "b64url_encode",
    "ec_public_key",
    "es256_verify",
    "json_bytes",
    "parse_compact",
    "sign_compact",
]


class JoseError(ValueError):
    """A JOSE object is malformed or its signature does not verify."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text.isascii() or "=" in text:
        raise JoseError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JoseError("not base64url") from exc
    if b64url_encode(data) != text:
        raise JoseError("not canonical base64url")
    return data


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def ec_public_key(jwk: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its JWK; anything else is refused."""
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise JoseError("not a P-256 key")
    try:
        x = int.from_bytes(b64url_decode(jwk["x"]), "big")
        y = int.from_bytes(b64url_decode(jwk["y"]), "big")
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyError, TypeError, ValueError) as exc:
        raise JoseError("invalid EC key") from exc


def es256_verify(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes, *, device: bool = False) -> bool:
    """Check a raw ``r || s`` ES256 signature; a ``device`` signature may also be DER."""
    if device:
        found = device_signature_der(signature)
        if found is None:
            return False
        der = found
    elif len(signature) == 64:
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    else:
        return False
    try:
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def sign_compact(key: SigningKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """An ES256 compact JWS; ``alg`` and ``kid`` are always set from the key."""
    head = b64url_encode(json_bytes({**header, "alg": "ES256", "kid": key.kid}))
    body = b64url_encode(json_bytes(payload))
    signing_input = f"{head}.{body}".encode("ascii")
    return f"{head}.{body}.{b64url_encode(key.sign_es256(signing_input))}"


def parse_compact(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Split a compact JWS: (header, payload, signing input, signature); nothing verified yet."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseError("not a compact JWS")
    try:
        raw_header, raw_payload = b64url_decode(parts[0]), b64url_decode(parts[1])
        check_depth(raw_header)
        check_depth(raw_payload)
        header = json.loads(raw_header)
        payload = json.loads(raw_payload)
    except (UnicodeDecodeError, json.JSONDecodeError, JsonTooDeep) as exc:
        raise JoseError("malformed JWS") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise JoseError("malformed JWS")
    if header.get("alg") != "ES256":
        raise JoseError("unsupported algorithm")
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), b64url_decode(parts[2])
