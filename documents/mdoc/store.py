"""The mdoc certificates, made once for every process: each agency's IACA root and Document Signer.

Keys are kept by the foundation's key provider (``documents/mdoc/keys.py``: one active
``mdoc-iaca`` and one ``mdoc-ds`` key per agency). The DS key is dedicated, not the
agency's SD-JWT issuer key: ISO 18013-5 wants a key that signs only MSOs, certified by the
IACA for a limited time and replaced with its certificate, while the SD-JWT key is
published as a JWK and rotated on its own schedule. Certificates are rows of
``mdoc_certificates``, one per key, made under a per-agency advisory lock by whichever
process needs one first.

Lifetimes: a DS certificate is used while at least :data:`MAX_MDOC_LIFETIME` of it
remains, so every mdoc it signs stays inside it; then a new DS key is made and certified.
An IACA root is used to certify while it outlives a fresh DS certificate; then a new root
is made, and the old one stays published until it expires.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from documents.credentials import issuer_url
from documents.issuer_keys import current_signing_key
from documents.mdoc.certificates import DS_LIFETIME, document_signer_certificate, iaca_certificate
from documents.mdoc.keys import DS_KEY_PURPOSE, IACA_KEY_PURPOSE, MDL_ISSUERS_SQL, NOT_AS_JWK, agency_lock
from documents.mdoc.revocation import crl_url, keep_final_crl
from documents.mdoc.trust import forget_cached
from wallet_api.kernel import DatabaseKeyProvider, NotFound, SigningKey

__all__ = ["MAX_MDOC_LIFETIME", "DocumentSigner", "IacaRoot", "document_signer", "published_roots"]

#: The longest an mdoc lives: wallets fetch fresh ones (OID4VCI), as short-lived mdocs are
#: the ISO practice (status through the list, no stale claims for years).
MAX_MDOC_LIFETIME = dt.timedelta(days=90)


@dataclass(frozen=True, slots=True)
class DocumentSigner:
    """What signs an agency's MSOs: its DS key and that key's certificate (the x5chain)."""

    org_id: str
    key: SigningKey
    certificate: bytes
    not_after: dt.datetime


@dataclass(frozen=True, slots=True)
class IacaRoot:
    org_id: str
    org_name: str
    kid: str
    der: bytes
    not_before: dt.datetime
    not_after: dt.datetime

    @property
    def pem(self) -> str:
        cert = x509.load_der_x509_certificate(self.der)
        return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


async def _agency_name(pool: asyncpg.Pool, org_id: str) -> str:
    name: str | None = await pool.fetchval("SELECT name FROM organisations WHERE id = $1 AND kind = 'issuer'", org_id)
    if name is None:
        raise NotFound("No such issuing agency.")
    return name


async def _certificate_of(conn: asyncpg.Connection | asyncpg.Pool, kid: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM mdoc_certificates WHERE kid = $1 ORDER BY not_after DESC LIMIT 1", kid)


async def _insert(
    conn: asyncpg.Connection, role: str, org_id: str, kid: str, issuer_kid: str, cert: x509.Certificate
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO mdoc_certificates (role, org_id, kid, issuer_kid, not_before, not_after, der)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
        role,
        org_id,
        kid,
        issuer_kid,
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
        cert.public_bytes(serialization.Encoding.DER),
    )
    assert row is not None
    return row


async def _current_root(
    pool: asyncpg.Pool, keys: DatabaseKeyProvider, org_id: str, org_name: str, base_url: str
) -> tuple[SigningKey, asyncpg.Record]:
    """The agency's IACA key and root certificate, made or renewed when needed."""
    now = dt.datetime.now(dt.UTC)
    key = await current_signing_key(pool, keys, IACA_KEY_PURPOSE, org_id)
    row = await _certificate_of(pool, key.kid)
    if row is not None and row["not_after"] - now > DS_LIFETIME:
        return key, row
    async with pool.acquire() as conn, conn.transaction():
        await agency_lock(conn, "iaca", org_id)
        key = await current_signing_key(pool, keys, IACA_KEY_PURPOSE, org_id)
        row = await _certificate_of(conn, key.kid)
        if row is not None and row["not_after"] - now <= DS_LIFETIME:
            # Too close to its end to certify a DS key for its whole life: a new root. The
            # old one's last CRL is signed now, while its key is the active one.
            await keep_final_crl(conn, row, key)
            key, row = await keys.rotate(IACA_KEY_PURPOSE, org_id, publish_until=NOT_AS_JWK), None
        if row is None:
            cert = iaca_certificate(
                key.private_key,
                org_name=org_name,
                issuer_url=issuer_url(base_url, org_id),
                crl_url=crl_url(base_url, org_id, key.kid),
                now=now,
            )
            row = await _insert(conn, "iaca", org_id, key.kid, key.kid, cert)
    forget_cached()
    return key, row


async def document_signer(
    pool: asyncpg.Pool, keys: DatabaseKeyProvider, org_id: str, *, base_url: str
) -> DocumentSigner:
    """The agency's current Document Signer, certified by its current IACA root (both made
    on first use). A few indexed reads, no cache: a caller signing many mdocs at once (a
    batch) asks once and signs them all with the answer."""
    now = dt.datetime.now(dt.UTC)
    org_name = await _agency_name(pool, org_id)
    iaca_key, root = await _current_root(pool, keys, org_id, org_name, base_url)
    key = await current_signing_key(pool, keys, DS_KEY_PURPOSE, org_id)
    row = await _certificate_of(pool, key.kid)
    if row is None or row["issuer_kid"] != iaca_key.kid or row["not_after"] - now <= MAX_MDOC_LIFETIME:
        async with pool.acquire() as conn, conn.transaction():
            await agency_lock(conn, "ds", org_id)
            key = await current_signing_key(pool, keys, DS_KEY_PURPOSE, org_id)
            row = await _certificate_of(conn, key.kid)
            if row is not None and (row["issuer_kid"] != iaca_key.kid or row["not_after"] - now <= MAX_MDOC_LIFETIME):
                # One certificate per DS key: a key whose certificate ends (or whose root
                # was replaced) is retired with it, and a new key is certified.
                key, row = await keys.rotate(DS_KEY_PURPOSE, org_id, publish_until=NOT_AS_JWK), None
            if row is None:
                cert = document_signer_certificate(
                    key.private_key.public_key(),
                    iaca=x509.load_der_x509_certificate(root["der"]),
                    iaca_key=iaca_key.private_key,
                    org_name=org_name,
                    issuer_url=issuer_url(base_url, org_id),
                    crl_url=crl_url(base_url, org_id, iaca_key.kid),
                    now=now,
                )
                row = await _insert(conn, "document_signer", org_id, key.kid, iaca_key.kid, cert)
    return DocumentSigner(org_id=org_id, key=key, certificate=row["der"], not_after=row["not_after"])


async def published_roots(
    pool: asyncpg.Pool, keys: DatabaseKeyProvider, *, base_url: str, org_id: str | None = None
) -> list[IacaRoot]:
    """The IACA roots verifiers should trust (every agency's, or one's): current and still-valid
    older ones. A root not made yet is made here, so it is published before the first mdoc."""
    issuers = await pool.fetch(
        f"SELECT o.id, o.name FROM ({MDL_ISSUERS_SQL}) AS i(id) JOIN organisations o USING (id) ORDER BY o.id"
    )
    for issuer in issuers:
        if org_id is None or issuer["id"] == org_id:
            await _current_root(pool, keys, issuer["id"], issuer["name"], base_url)
    rows = await pool.fetch(
        """SELECT c.org_id, o.name, c.kid, c.der, c.not_before, c.not_after
           FROM mdoc_certificates c JOIN organisations o ON o.id = c.org_id
           WHERE c.role = 'iaca' AND c.not_after > now() AND ($1::text IS NULL OR c.org_id = $1)
           ORDER BY c.org_id, c.not_before""",
        org_id,
    )
    return [IacaRoot(r["org_id"], r["name"], r["kid"], r["der"], r["not_before"], r["not_after"]) for r in rows]
