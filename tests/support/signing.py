"""What a phone's device key signs in tests and benchmarks: ES256 signatures and compact JWS.

The app receives signatures as JWS writes them (base64url of raw r || s, 64 bytes), not the
DER that the platform key stores return; the conversion is done here once.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

__all__ = ["b64url", "es256", "es256_der", "jws", "signed_jwt"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def es256_der(key: ec.EllipticCurvePrivateKey, message: bytes | str) -> bytes:
    """The signature as Android and iOS key stores return it (DER)."""
    return key.sign(message.encode() if isinstance(message, str) else message, ec.ECDSA(hashes.SHA256()))


def es256(key: ec.EllipticCurvePrivateKey, message: bytes | str) -> str:
    """The signature in JWS form: base64url of r || s."""
    r, s = decode_dss_signature(es256_der(key, message))
    return b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def jws(key: ec.EllipticCurvePrivateKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A compact ES256 JWS of ``payload`` (compact JSON, UTF-8 kept); ``header`` beside ``alg``."""
    head = b64url(_json({"alg": "ES256", **header}))
    body = b64url(_json(payload))
    return f"{head}.{body}.{es256(key, f'{head}.{body}')}"


def signed_jwt(key: ec.EllipticCurvePrivateKey, payload: dict[str, Any], typ: str) -> str:
    """A compact JWS of ``payload`` with header ``{"alg": "ES256", "typ": typ}``."""
    return jws(key, {"typ": typ}, payload)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
