"""The signed request object (OpenID4VP 1.0 section 5, JAR RFC 9101) a wallet fetches at ``request_uri``.

``typ: oauth-authz-req+jwt``, ES256 with the request-signing key, whose certificate is the
one element of ``x5c`` (the root is what wallets trust, so it is left out, as HAIP asks).
The payload carries the whole request: ``client_id``, ``response_type: vp_token``,
``response_mode`` with ``response_uri``, ``nonce``, ``state``, ``dcql_query``, and for the
``x509_san_dns`` prefix ``client_metadata`` (``vp_formats_supported``, the verifier's name,
and for ``direct_post.jwt`` the request's own ephemeral ECDH-ES key in ``jwks``). A
pre-registered client's metadata is published instead (``GET /openid4vp/clients/{id}``), so
its requests carry none (a wallet that knows a client refuses ``client_metadata``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from openid4vp.identity import VerifierKey
from openid4vp.transactions import Transaction
from wallet_api.kernel import b64url_decode, b64url_encode, jwk_thumbprint, public_jwk, sign_compact_with

__all__ = [
    "ENCRYPTION_ENCS",
    "REQUEST_TYP",
    "VP_FORMATS",
    "X509_HASH",
    "X509_SAN_DNS",
    "encryption_jwk",
    "new_encryption_key",
    "private_encryption_key",
    "signed_request_object",
    "x509_hash_client_id",
]

REQUEST_TYP = "oauth-authz-req+jwt"
X509_SAN_DNS = "x509_san_dns"
X509_HASH = "x509_hash"
#: The content encryption a wallet may use for ``direct_post.jwt`` (A128GCM is the default).
ENCRYPTION_ENCS = ("A128GCM", "A256GCM")
#: What this verifier accepts (OpenID4VP 1.0 appendix B): ES256 everywhere.
VP_FORMATS: dict[str, Any] = {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]},
    # COSE ES256 (-7) for the issuer's and the device's signatures; no deviceMac.
    "mso_mdoc": {"issuerauth_alg_values": [-7], "deviceauth_alg_values": [-7]},
}
#: Static discovery (section 5.8): the wallet is not known to the verifier in advance.
_AUDIENCE = "https://self-issued.me/v2"


def new_encryption_key() -> tuple[str, str]:
    """A fresh P-256 key for one request's encrypted response: (private scalar base64url, kid)."""
    private = ec.generate_private_key(ec.SECP256R1())
    scalar = private.private_numbers().private_value.to_bytes(32, "big")
    return b64url_encode(scalar), jwk_thumbprint(public_jwk(private.public_key()))


def private_encryption_key(scalar: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(b64url_decode(scalar), "big"), ec.SECP256R1())


def encryption_jwk(scalar: str, kid: str) -> dict[str, str]:
    """The public half of a request's encryption key, as the wallet gets it in ``client_metadata.jwks``."""
    public = private_encryption_key(scalar).public_key()
    return {**public_jwk(public), "kid": kid, "use": "enc", "alg": "ECDH-ES"}


def x509_hash_client_id(identity: VerifierKey) -> str:
    """``x509_hash:`` and the base64url SHA-256 of the leaf certificate (OID4VP 1.0 section 5.9.3)."""
    return f"{X509_HASH}:{b64url_encode(hashlib.sha256(identity.chain[0]).digest())}"


def signed_request_object(tx: Transaction, identity: VerifierKey, verifier_name: str) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": tx.client_id,
        "aud": _AUDIENCE,
        "iat": now,
        "exp": tx.expires_at,
        "client_id": tx.client_id,
        "response_type": "vp_token",
        "response_mode": tx.mode,
        "response_uri": tx.response_uri,
        "nonce": tx.nonce,
        "state": tx.state,
        "dcql_query": json.loads(tx.dcql),
    }
    if ":" in tx.client_id:  # x509_san_dns, x509_hash: the metadata comes with the request
        metadata: dict[str, Any] = {"client_name": verifier_name, "vp_formats_supported": VP_FORMATS}
        if tx.mode == "direct_post.jwt":
            metadata["jwks"] = {"keys": [encryption_jwk(tx.enc_key, tx.enc_kid)]}
            metadata["encrypted_response_enc_values_supported"] = list(ENCRYPTION_ENCS)
        payload["client_metadata"] = metadata
    # x5c is standard base64 of DER (RFC 7515 section 4.1.6), the leaf only.
    header = {"typ": REQUEST_TYP, "x5c": [base64.b64encode(identity.chain[0]).decode("ascii")]}
    return sign_compact_with(identity.key, payload, header)
