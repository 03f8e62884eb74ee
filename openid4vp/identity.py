"""Who the verifier service says it is to a wallet: its request-signing key and X.509 chain.

A wallet checks a request object signed under the client identifier ``x509_san_dns:<host>``
by its ``x5c`` header: the leaf certificate must name ``<host>`` as a SAN dNSName and chain
to a root the wallet trusts, and its key must have signed the request. So the service has
two keys in the key provider (wallet_api/keys, private halves wrapped under ``WALLET_KEK``):
the verifier CA's (purpose ``openid4vp-ca``), whose self-signed root certificate wallets
pin (``GET /openid4vp/verifier-ca.pem``), and the request-signing key (purpose
``openid4vp-request``), whose leaf certificate the CA signs for the configured host. The
certificates are rows of ``openid4vp_certificates`` (migrations/0940_openid4vp.sql), made
the first time a process needs them; processes that race insert one and read the winner.
A rotated key (``wallet keys rotate openid4vp-request``) gets its certificate the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from wallet_api.kernel import DatabaseKeyProvider, ServiceFactory, Settings, SigningKey, key_usage

__all__ = ["CA_PURPOSE", "REQUEST_PURPOSE", "VERIFIER_IDENTITY", "VerifierIdentity", "VerifierKey", "client_host"]

CA_PURPOSE = "openid4vp-ca"
REQUEST_PURPOSE = "openid4vp-request"
_ROOT_YEARS = 10
_LEAF_DAYS = 397


def client_host(settings: Settings) -> str:
    """The DNS name the verifier service is known by: the setting, else the public URL's host."""
    return settings.openid4vp.client_host or (urlsplit(settings.public_base_url).hostname or "localhost")


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """The request-signing key, its certificate chain (leaf first, DER) and the host the leaf names."""

    key: SigningKey
    chain: tuple[bytes, ...]
    host: str

    @property
    def root(self) -> bytes:
        return self.chain[-1]


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Citizen Wallet"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _root_certificate(ca: SigningKey) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    public = ca.private_key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(_name("Citizen Wallet verifier CA"))
        .issuer_name(_name("Citizen Wallet verifier CA"))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * _ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(ca.private_key, hashes.SHA256())
    )


def _leaf_certificate(key: SigningKey, host: str, ca: SigningKey, root: x509.Certificate) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    public = key.private_key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(root.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=_LEAF_DAYS), root.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()), critical=False)
        .sign(ca.private_key, hashes.SHA256())
    )


async def _stored(pool: asyncpg.Pool, kid: str, host: str, issuer_kid: str | None) -> bytes | None:
    """The certificate of ``kid`` for ``host`` by the current CA, unless it ends within a day."""
    der: bytes | None = await pool.fetchval(
        """SELECT der FROM openid4vp_certificates
           WHERE kid = $1 AND host = $2 AND issuer_kid IS NOT DISTINCT FROM $3
             AND not_after > now() + interval '1 day'""",
        kid,
        host,
        issuer_kid,
    )
    return der


async def _store(pool: asyncpg.Pool, kid: str, host: str, issuer_kid: str | None, cert: x509.Certificate) -> bytes:
    """Keep ``cert`` unless another process stored one for this key and host first; the one kept."""
    der = cert.public_bytes(serialization.Encoding.DER)
    kept: bytes | None = await pool.fetchval(
        """INSERT INTO openid4vp_certificates (kid, host, issuer_kid, der, not_after) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (kid, host) DO UPDATE
               SET der = EXCLUDED.der, not_after = EXCLUDED.not_after, issuer_kid = EXCLUDED.issuer_kid
               WHERE openid4vp_certificates.not_after <= now() + interval '1 day'
                  OR openid4vp_certificates.issuer_kid IS DISTINCT FROM EXCLUDED.issuer_kid
           RETURNING der""",
        kid,
        host,
        issuer_kid,
        der,
        cert.not_valid_after_utc,
    )
    return kept or await _stored(pool, kid, host, issuer_kid) or der


_ACTIVE_LEAF = """SELECT k.kid, c.der FROM signing_keys k
LEFT JOIN openid4vp_certificates c
       ON c.kid = k.kid AND c.host = $2 AND c.not_after > now() + interval '1 day'
WHERE k.purpose = $1 AND k.owner IS NULL AND k.active"""


class VerifierIdentity:
    """This process's view of the service's request-signing key and certificate chain."""

    def __init__(self, pool: asyncpg.Pool, keys: DatabaseKeyProvider, settings: Settings) -> None:
        self._pool, self._keys, self._host = pool, keys, client_host(settings)
        self._current: VerifierKey | None = None

    async def _active_key(self, purpose: str, active: str | None = None) -> SigningKey:
        """The provider's active key for ``purpose``, re-read if another process rotated it."""
        if active is None:
            active = await self._pool.fetchval(
                "SELECT kid FROM signing_keys WHERE purpose = $1 AND owner IS NULL AND active", purpose
            )
        key = await self._keys.active_key(purpose)
        if key.kid != active:
            self._keys.forget_cached()
            key = await self._keys.active_key(purpose)
        return key

    async def current(self) -> VerifierKey:
        """The active key and its chain, made (key, root, leaf) where missing."""
        # The active key and its stored certificate are read each time (one small query), so every
        # process signs with the key and shows the certificate the others do, also right after a
        # rotation or a renewal: an x509_hash client id names that very certificate.
        row = await self._pool.fetchrow(_ACTIVE_LEAF, REQUEST_PURPOSE, self._host)
        active, leaf = (row["kid"], row["der"]) if row is not None else (None, None)
        cached = self._current
        if cached is not None and cached.key.kid == active and cached.chain[0] == leaf:
            return cached
        key = await self._active_key(REQUEST_PURPOSE, active)
        ca = await self._active_key(CA_PURPOSE)
        root_der = await _stored(self._pool, ca.kid, "", None)
        if root_der is None:
            root_der = await _store(self._pool, ca.kid, "", None, _root_certificate(ca))
        leaf_der = await _stored(self._pool, key.kid, self._host, ca.kid)
        if leaf_der is None:
            root = x509.load_der_x509_certificate(root_der)
            leaf_der = await _store(
                self._pool, key.kid, self._host, ca.kid, _leaf_certificate(key, self._host, ca, root)
            )
        found = VerifierKey(key=key, chain=(leaf_der, root_der), host=self._host)
        self._current = found
        return found


VERIFIER_IDENTITY: ServiceFactory[VerifierIdentity] = ServiceFactory(
    "openid4vp-identity", lambda s: VerifierIdentity(s.pool, s.keys, s.settings)
)
