"""OAuth client attestation (wallet attestation): draft-ietf-oauth-attestation-based-client-auth.

A wallet app proves two things with two headers on the PAR and token requests:

* ``OAuth-Client-Attestation``: a JWT (``typ`` ``oauth-client-attestation+jwt``) that a
  wallet provider we trust signed about this wallet instance: ``iss`` (the provider),
  ``sub`` (the client_id), ``exp``, and ``cnf.jwk``, a key held by the instance;
* ``OAuth-Client-Attestation-PoP``: a JWT (``typ`` ``oauth-client-attestation-pop+jwt``)
  signed by that ``cnf`` key for this request: ``aud`` our issuer identifier, a fresh
  ``iat``, a ``jti`` accepted once.

The providers' keys are a JWKS from the settings, read once when the process starts
(:data:`WALLET_PROVIDERS`); nothing is fetched at request time. The attestation's ``kid``
names the key; one without a ``kid`` is tried against each trusted key (a handful). Signatures are ES256 (the
one JOSE module, ``wallet_api/keys/jose.py``); HAIP asks for ES256.

Every refusal is one :class:`AttestationRefused` whose message says which check failed; the
endpoints answer it as ``invalid_client`` and never say more to the caller than that.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import ec

from wallet_api.kernel import (
    JoseError,
    ServiceFactory,
    Services,
    Settings,
    SettingsError,
    decode_compact,
    ec_key_set,
    ec_public_key,
    es256_verify,
    jwk_thumbprint,
)

__all__ = [
    "ATTESTATION_HEADER",
    "ATTESTATION_POP_HEADER",
    "WALLET_PROVIDERS",
    "AttestationRefused",
    "AttestedClient",
    "WalletProviders",
    "verify_client_attestation",
]

ATTESTATION_HEADER = "OAuth-Client-Attestation"
ATTESTATION_POP_HEADER = "OAuth-Client-Attestation-PoP"
_ATTESTATION_TYP = "oauth-client-attestation+jwt"
_POP_TYP = "oauth-client-attestation-pop+jwt"
#: Clock skew allowed between the wallet, its provider and us.
_SKEW = 60
#: A PoP older than this is refused whatever its ``exp`` says; its jti is remembered this long.
_POP_MAX_AGE = 300


class AttestationRefused(Exception):
    """The client attestation or its proof of possession is missing, malformed, untrusted or replayed."""


@dataclass(frozen=True, slots=True)
class AttestedClient:
    """What a verified attestation says about the calling wallet instance."""

    client_id: str
    #: The wallet provider that attested it (the attestation's ``iss``).
    attester: str
    #: The wallet's name if the provider gave one (``wallet_name``), for the approval screen.
    wallet_name: str | None
    #: RFC 7638 thumbprint of the instance key (``cnf.jwk``).
    instance_jkt: str


class WalletProviders:
    """The trusted wallet providers' public keys, by ``kid``."""

    def __init__(self, keys: Mapping[str, ec.EllipticCurvePublicKey]) -> None:
        self._keys = dict(keys)

    def candidates(self, kid: object) -> list[ec.EllipticCurvePublicKey]:
        """The key ``kid`` names; without a ``kid``, every trusted key (a handful of providers)."""
        if kid is None:
            return list(self._keys.values())
        found = self._keys.get(kid) if isinstance(kid, str) else None
        return [found] if found is not None else []

    @classmethod
    def from_settings(cls, settings: Settings) -> WalletProviders:
        """The configured JWKS (checked when the settings were read: wallet_api/settings.py)."""
        if not settings.openid4vci.wallet_providers_jwks.strip():
            return cls({})
        try:
            return cls(ec_key_set(settings.openid4vci.wallet_providers_jwks_bytes()))
        except (OSError, JoseError) as exc:
            raise SettingsError(f"WALLET_OPENID4VCI_WALLET_PROVIDERS_JWKS is not a JWKS of P-256 keys: {exc}") from exc


def _providers(services: Services) -> WalletProviders:
    return WalletProviders.from_settings(services.settings)


#: The process's trusted wallet providers, read once from the settings.
WALLET_PROVIDERS = ServiceFactory("oid4vci-wallet-providers", _providers)


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AttestationRefused(f"{name} is not a number")
    return float(value)


def _verified(
    token: str, typ: str, keys_of: Callable[[dict[str, Any]], list[ec.EllipticCurvePublicKey]]
) -> dict[str, Any]:
    try:
        jws = decode_compact(token, typ=typ)
    except JoseError as exc:
        raise AttestationRefused(f"not a {typ}: {exc}") from exc
    if not any(es256_verify(key, jws.signature, jws.signing_input) for key in keys_of(jws.header)):
        raise AttestationRefused(f"the {typ} signature does not verify with a trusted key")
    return jws.payload


def _check_attestation(claims: dict[str, Any], now: float) -> tuple[str, str, ec.EllipticCurvePublicKey, str]:
    issuer, client_id = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or not issuer or not isinstance(client_id, str) or not client_id:
        raise AttestationRefused("the attestation names no iss or sub")
    exp = _number(claims, "exp")
    if exp is None or exp < now - _SKEW:
        raise AttestationRefused("the attestation has expired (or has no exp)")
    for name in ("iat", "nbf"):
        at = _number(claims, name)
        if at is not None and at > now + _SKEW:
            raise AttestationRefused(f"the attestation's {name} is in the future")
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    try:
        instance_key = ec_public_key(jwk if isinstance(jwk, dict) else {})
    except JoseError as exc:
        raise AttestationRefused(f"the attestation's cnf.jwk is not a P-256 public key: {exc}") from exc
    assert isinstance(jwk, dict)
    return issuer, client_id, instance_key, jwk_thumbprint(jwk)


def _check_pop(claims: dict[str, Any], client_id: str, audience: str, now: float) -> str:
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audience not in audiences:
        raise AttestationRefused("the PoP is not for this authorization server (aud)")
    if "iss" in claims and claims["iss"] != client_id:
        raise AttestationRefused("the PoP's iss is not the attested client")
    iat = _number(claims, "iat")
    if iat is None or not now - _POP_MAX_AGE <= iat <= now + _SKEW:
        raise AttestationRefused("the PoP's iat is missing, too old or in the future")
    exp = _number(claims, "exp")
    if exp is not None and exp < now - _SKEW:
        raise AttestationRefused("the PoP has expired")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 256:
        raise AttestationRefused("the PoP has no usable jti")
    return jti


async def verify_client_attestation(
    headers: Mapping[str, str],
    *,
    providers: WalletProviders,
    redis: aioredis.Redis,
    audience: str,
    now: float | None = None,
) -> AttestedClient | None:
    """The attested client of a request, None if it sent no attestation at all.

    ``audience`` is our authorization server's issuer identifier. The PoP's ``jti`` is
    remembered (Redis, a digest of client and jti as the key name) only once everything
    else has been checked, so a refused request spends nothing; a second use is refused.
    """
    attestation, pop = headers.get(ATTESTATION_HEADER), headers.get(ATTESTATION_POP_HEADER)
    if attestation is None and pop is None:
        return None
    if not attestation or not pop:
        raise AttestationRefused("an attestation needs both headers")
    now = time.time() if now is None else now
    claims = _verified(attestation, _ATTESTATION_TYP, lambda header: providers.candidates(header.get("kid")))
    issuer, client_id, instance_key, instance_jkt = _check_attestation(claims, now)
    pop_claims = _verified(pop, _POP_TYP, lambda _: [instance_key])
    jti = _check_pop(pop_claims, client_id, audience, now)
    digest = hashlib.sha256(f"{client_id}\x00{jti}".encode()).hexdigest()
    if not await redis.set(f"oid4vci:attestation-pop:{digest}", 1, nx=True, ex=_POP_MAX_AGE + 2 * _SKEW):
        raise AttestationRefused("the PoP's jti was used before")
    name = claims.get("wallet_name")
    return AttestedClient(client_id, issuer, name if isinstance(name, str) else None, instance_jkt)
