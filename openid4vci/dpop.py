"""DPoP (RFC 9449): proofs of possession that sender-constrain our access tokens.

A wallet sends ``DPoP: <proof>`` with its token request and with every use of the token. A
proof is a compact JWS (``typ: dpop+jwt``, ES256) signed by the key in its own ``jwk``
header, over ``jti``, ``htm`` (the method), ``htu`` (the URL without query or fragment),
``iat`` and, with an access token, ``ath`` (SHA-256 of the token). The access token names
the key's thumbprint (``cnf.jkt``); a proof by any other key is refused.

Replay: each ``jti`` is accepted once per key within twice the accepted age (Redis ``SET
NX``; a ``jti`` lost with Redis is still bounded by ``iat``). No server ``DPoP-Nonce`` is
required: a proof is fresh by ``iat`` and single use by ``jti``, the token lives minutes,
and the credential endpoint also demands key proofs over a fresh single-use ``c_nonce``,
so a proof made ahead of time by someone briefly holding the key gains nothing the nonce
would deny (docs/openid4vci.md, "DPoP").

The token endpoint refuses with 400 ``invalid_dpop_proof``; a protected resource with 401
and ``WWW-Authenticate: DPoP error="invalid_dpop_proof"`` (RFC 9449 §5, §7.1).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from openid4vci.errors import ProtocolError, invalid_token
from wallet_api.kernel import JoseError, b64url_encode, decode_compact, embedded_key, es256_verify, jwk_thumbprint

__all__ = ["DPOP_TYP", "DpopKey", "access_token_hash", "check_dpop"]

DPOP_TYP = "dpop+jwt"
_MAX_PROOF = 4096


@dataclass(frozen=True, slots=True)
class DpopKey:
    """The key a valid proof was signed with: its RFC 7638 thumbprint and public JWK."""

    jkt: str
    jwk: dict[str, str]


def access_token_hash(token: str) -> str:
    """``ath``: base64url SHA-256 of the access token's ASCII."""
    return b64url_encode(hashlib.sha256(token.encode("ascii")).digest())


def _refusal(description: str, at_resource: bool) -> ProtocolError:
    if at_resource:
        return invalid_token(description, error="invalid_dpop_proof")
    return ProtocolError("invalid_dpop_proof", description)


async def check_dpop(
    proofs: list[str],
    redis: aioredis.Redis,
    *,
    method: str,
    url: str,
    max_age: int,
    access_token: str | None = None,
    expected_jkt: str | None = None,
) -> DpopKey:
    """Check the request's ``DPoP`` header values (exactly one proof) for ``method`` ``url``.

    With ``access_token`` the request is at a protected resource: the proof must carry its
    ``ath`` and be signed by the key ``expected_jkt`` names.
    """
    at_resource = access_token is not None
    if len(proofs) != 1:
        raise _refusal("Send exactly one DPoP header.", at_resource)
    proof = proofs[0]
    if len(proof) > _MAX_PROOF:
        raise _refusal("The DPoP proof is too long.", at_resource)
    try:
        header, claims, signing_input, signature = decode_compact(proof, typ=DPOP_TYP)
        jwk, key = embedded_key(header)
    except JoseError as exc:
        raise _refusal(f"The DPoP proof cannot be read ({exc}).", at_resource) from None
    if not es256_verify(key, signature, signing_input):
        raise _refusal("The DPoP proof's signature does not verify with its jwk.", at_resource)
    jti, htm, htu, iat = claims.get("jti"), claims.get("htm"), claims.get("htu"), claims.get("iat")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 256:
        raise _refusal("The DPoP proof needs a unique jti.", at_resource)
    if htm != method or not isinstance(htu, str) or htu.split("#", 1)[0].split("?", 1)[0] != url:
        raise _refusal(f"The DPoP proof is for another request (htm {method}, htu {url}).", at_resource)
    if not isinstance(iat, int) or isinstance(iat, bool) or abs(time.time() - iat) > max_age:
        raise _refusal("The DPoP proof is stale or from the future; check the clock.", at_resource)
    jkt = jwk_thumbprint(jwk)
    if access_token is not None:
        if claims.get("ath") != access_token_hash(access_token):
            raise _refusal("The DPoP proof is not for this access token (ath).", at_resource)
        if jkt != expected_jkt:
            raise _refusal("The DPoP proof is signed by another key than the token is bound to.", at_resource)
    replay_key = "vci:dpop-jti:" + hashlib.sha256(f"{jkt}:{jti}".encode()).hexdigest()
    if not await redis.set(replay_key, b"1", nx=True, ex=2 * max_age + 5):
        raise _refusal("This DPoP proof was already used (jti).", at_resource)
    return DpopKey(jkt=jkt, jwk=jwk)
