"""Key proofs of a credential request (OpenID4VCI §8.2.1, ``jwt`` proof type).

Each proof is a compact JWS (``typ: openid4vci-proof+jwt``, ES256) signed by the key in its
``jwk`` header — the key the credential will be bound to (``cnf.jwk``) — over ``aud`` (the
credential issuer), ``iat`` and ``nonce`` (a ``c_nonce`` from our nonce endpoint). One
request may carry up to the batch size of proofs, each for a different key; one credential
is issued per key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from openid4vci.errors import ProtocolError
from wallet_api.kernel import JoseError, decode_compact, embedded_key, es256_verify, jwk_thumbprint

__all__ = ["PROOF_TYP", "HolderKey", "check_key_proofs"]

PROOF_TYP = "openid4vci-proof+jwt"
_MAX_PROOF = 4096


@dataclass(frozen=True, slots=True)
class HolderKey:
    jwk: dict[str, str]
    jkt: str
    nonce: str


def _invalid(description: str) -> ProtocolError:
    return ProtocolError("invalid_proof", description)


def _check_one(proof: Any, *, audience: str, max_age: int, now: float) -> HolderKey:
    if not isinstance(proof, str) or len(proof) > _MAX_PROOF:
        raise _invalid("Each jwt proof is a compact JWS.")
    try:
        header, claims, signing_input, signature = decode_compact(proof, typ=PROOF_TYP)
        jwk, key = embedded_key(header)
    except JoseError as exc:
        raise _invalid(f"A key proof cannot be read ({exc}); typ {PROOF_TYP}, ES256, the key in jwk.") from None
    if not es256_verify(key, signature, signing_input):
        raise _invalid("A key proof is not signed by the key in its jwk header.")
    if claims.get("aud") != audience:
        raise _invalid(f"A key proof is for another audience (aud must be {audience}).")
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool) or abs(now - iat) > max_age:
        raise _invalid("A key proof is stale or from the future (iat); check the clock.")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not 1 <= len(nonce) <= 256:
        raise _invalid("A key proof carries no c_nonce (nonce); get one from the nonce endpoint.")
    return HolderKey(jwk=jwk, jkt=jwk_thumbprint(jwk), nonce=nonce)


def check_key_proofs(proofs: Any, *, audience: str, max_age: int, batch_size: int) -> list[HolderKey]:
    """The holder keys of a request's ``proofs`` (signatures, audience, freshness checked;
    the nonces are spent by the caller once everything else holds)."""
    if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
        raise _invalid('proofs must be {"jwt": [...]} (the only proof type supported).')
    jwts = proofs["jwt"]
    if not isinstance(jwts, list) or not jwts:
        raise _invalid("proofs.jwt must be a non-empty array.")
    if len(jwts) > batch_size:
        raise ProtocolError("invalid_credential_request", f"At most {batch_size} proofs in one request (batch_size).")
    now = time.time()
    keys = [_check_one(p, audience=audience, max_age=max_age, now=now) for p in jwts]
    if len({k.jkt for k in keys}) != len(keys):
        raise _invalid("Each proof of a batch must be for a different key.")
    return keys
