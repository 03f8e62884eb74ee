"""SD-JWT VC (IETF draft-ietf-oauth-sd-jwt-vc): minting and strict verification.

Every document field is a separate disclosure, so a holder can reveal any subset; the
issuer-signed part holds only the digests (sorted, padded with decoys so their number does
not reveal which optional fields a document has), the type (``vct``), validity, the holder's
device key (``cnf``) and the pointer into a Token Status List (``status``).

Compact form: ``<issuer JWS>~<disclosure>~...~<KB-JWT or empty>``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from documents.issuer_keys import IssuerKey
from documents.verdict import window_verdict
from wallet_api.kernel import (
    JoseError,
    SigningKey,
    b64url_decode,
    b64url_encode,
    decode_compact,
    ec_public_key,
    es256_verify,
    json_bytes,
    sign_compact,
    strict_json,
)

__all__ = [
    "KB_TYP",
    "SD_JWT_TYP",
    "CredentialError",
    "VerifiedCredential",
    "check_sd_jwt",
    "mint_sd_jwt",
    "verify_sd_jwt",
]

SD_JWT_TYP = "dc+sd-jwt"
KB_TYP = "kb+jwt"
#: Digests in every credential, real and decoy: a multiple of this many.
_DIGEST_BLOCK = 16
_RESERVED = frozenset({"_sd", "_sd_alg", "...", "iss", "iat", "nbf", "exp", "cnf", "vct", "status", "sub"})


_OUTSIDE_WINDOW = {"expired": "The credential has expired.", "not-yet-valid": "The credential is not valid yet."}


class CredentialError(ValueError):
    """Why a credential was refused; ``slug`` names the problem type."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail


def _digest(disclosure: str) -> str:
    return b64url_encode(hashlib.sha256(disclosure.encode("ascii")).digest())


def mint_sd_jwt(
    key: SigningKey,
    *,
    iss: str,
    vct: str,
    claims: Mapping[str, Any],
    holder_jwk: Mapping[str, Any],
    status_uri: str,
    status_idx: int,
    iat: int,
    exp: int | None,
    nbf: int | None = None,
) -> str:
    disclosures = [b64url_encode(json_bytes([b64url_encode(secrets.token_bytes(16)), k, v])) for k, v in claims.items()]
    digests = [_digest(d) for d in disclosures]
    decoys = -len(digests) % _DIGEST_BLOCK
    digests += [b64url_encode(hashlib.sha256(secrets.token_bytes(32)).digest()) for _ in range(decoys)]
    payload: dict[str, Any] = {
        "iss": iss,
        "iat": iat,
        "vct": vct,
        "cnf": {"jwk": {k: holder_jwk[k] for k in ("kty", "crv", "x", "y")}},
        "status": {"status_list": {"idx": status_idx, "uri": status_uri}},
        "_sd": sorted(digests),
        "_sd_alg": "sha-256",
    }
    if nbf is not None:
        payload["nbf"] = nbf
    if exp is not None:
        payload["exp"] = exp
    jws = sign_compact(key, payload, typ=SD_JWT_TYP)
    return jws + "~" + "".join(d + "~" for d in disclosures)


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    header: dict[str, Any]
    payload: dict[str, Any]
    issuer: IssuerKey
    #: The disclosed claims, by name.
    claims: dict[str, Any]
    key_bound: bool


KeyLookup = Callable[[str], Awaitable[IssuerKey | None]]


@dataclass(frozen=True, slots=True)
class _Presentation:
    """An SD-JWT split into its parts, the issuer's JWS read (not yet verified)."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    disclosures: list[str]
    kb_jwt: str


def _split(presentation: str) -> _Presentation:
    if not presentation.isascii():
        raise CredentialError("tampered", "The credential has characters no SD-JWT has.")
    parts = presentation.split("~")
    if len(parts) < 2:
        raise CredentialError("tampered", "Not an SD-JWT.")
    try:
        header, payload, signing_input, signature = decode_compact(parts[0])
    except JoseError as exc:
        raise CredentialError("tampered", f"The issuer's signature cannot be read ({exc}).") from exc
    return _Presentation(header, payload, signing_input, signature, parts[1:-1], parts[-1])


async def verify_sd_jwt(
    presentation: str,
    lookup: KeyLookup,
    *,
    now: int | None = None,
    audience: str | None = None,
    nonce: str | None = None,
    leeway: int = 60,
    kb_max_age: int = 300,
) -> VerifiedCredential:
    """Find the issuer key named by the credential's ``kid``, then check it as :func:`check_sd_jwt` does.

    The issuer's JWS is read once, for the ``kid`` and for the check.
    """
    split = _split(presentation)
    kid = split.header.get("kid")
    issuer = await lookup(kid) if isinstance(kid, str) and 0 < len(kid) <= 128 else None
    return _check(presentation, split, issuer, now, audience, nonce, leeway, kb_max_age)


def check_sd_jwt(
    presentation: str,
    issuer: IssuerKey | None,
    *,
    now: int | None = None,
    audience: str | None = None,
    nonce: str | None = None,
    leeway: int = 60,
    kb_max_age: int = 300,
) -> VerifiedCredential:
    """Verify an SD-JWT (with or without KB-JWT); every flaw raises ``CredentialError``.

    A key-binding JWT is fresh when its ``iat`` is within ``kb_max_age`` seconds (plus the
    ``leeway``) of ``now``, either side.

    A disclosure whose digest is not in the signed payload is an error, not ignored: a
    presentation is accepted only if every byte of it is covered by a signature.
    """
    return _check(presentation, _split(presentation), issuer, now, audience, nonce, leeway, kb_max_age)


def _check(
    presentation: str,
    split: _Presentation,
    issuer: IssuerKey | None,
    now: int | None,
    audience: str | None,
    nonce: str | None,
    leeway: int,
    kb_max_age: int,
) -> VerifiedCredential:
    now = int(time.time()) if now is None else now
    header, payload, disclosures, kb_jwt = split.header, split.payload, split.disclosures, split.kb_jwt
    if header.get("typ") != SD_JWT_TYP:
        raise CredentialError("tampered", "Not an SD-JWT VC.")
    if issuer is None or header.get("kid") != issuer.kid:
        raise CredentialError("unknown-issuer", "The credential was signed by a key we do not know.")
    if not es256_verify(issuer.public_key, split.signature, split.signing_input):
        raise CredentialError("tampered", "The issuer's signature does not verify.")
    if payload.get("_sd_alg") != "sha-256" or not isinstance(payload.get("_sd"), list):
        raise CredentialError("tampered", "The credential does not say how its disclosures are hashed.")
    expected = set(payload["_sd"])
    claims: dict[str, Any] = {}
    seen: set[str] = set()
    for disclosure in disclosures:
        digest = _digest(disclosure)
        if digest not in expected or digest in seen:
            raise CredentialError("tampered", "A disclosure is not covered by the issuer's signature.")
        seen.add(digest)
        try:
            salt, name, value = strict_json(b64url_decode(disclosure))
        except (JoseError, ValueError, TypeError) as exc:
            raise CredentialError("tampered", "A disclosure cannot be read.") from exc
        if not isinstance(salt, str) or not isinstance(name, str) or name in _RESERVED or name in claims:
            raise CredentialError("tampered", "A disclosure names a reserved or repeated claim.")
        claims[name] = value
    exp, nbf = payload.get("exp"), payload.get("nbf")
    outside = window_verdict(
        now,
        not_before=nbf if isinstance(nbf, int) else None,
        expires=exp if isinstance(exp, int) else None,
        leeway=leeway,
    )
    if outside is not None:
        raise CredentialError(outside, _OUTSIDE_WINDOW[outside])
    key_bound = False
    if kb_jwt:
        presented = presentation[: len(presentation) - len(kb_jwt)]
        _verify_kb(kb_jwt, payload, presented, now, audience, nonce, leeway + kb_max_age)
        key_bound = True
    elif audience is not None or nonce is not None:
        raise CredentialError("holder-binding", "The presentation carries no key-binding proof.")
    return VerifiedCredential(header=header, payload=payload, issuer=issuer, claims=claims, key_bound=key_bound)


def _verify_kb(
    kb_jwt: str,
    payload: Mapping[str, Any],
    presented: str,
    now: int,
    audience: str | None,
    nonce: str | None,
    max_skew: int,
) -> None:
    try:
        header, kb, signing_input, signature = decode_compact(kb_jwt)
        holder = ec_public_key(payload["cnf"]["jwk"])
    except (JoseError, KeyError, TypeError) as exc:
        raise CredentialError("holder-binding", "The key-binding proof cannot be read.") from exc
    if header.get("typ") != KB_TYP or not es256_verify(holder, signature, signing_input):
        raise CredentialError("holder-binding", "The key-binding proof is not signed by the holder's key.")
    if kb.get("sd_hash") != b64url_encode(hashlib.sha256(presented.encode("ascii")).digest()):
        raise CredentialError("holder-binding", "The key-binding proof is for another presentation.")
    if audience is not None and kb.get("aud") != audience:
        raise CredentialError("holder-binding", "The key-binding proof is for another verifier.")
    if nonce is not None and kb.get("nonce") != nonce:
        raise CredentialError("holder-binding", "The key-binding proof answers another request.")
    iat = kb.get("iat")
    if not isinstance(iat, int) or abs(now - iat) > max_skew:
        raise CredentialError("holder-binding", "The key-binding proof is stale.")
