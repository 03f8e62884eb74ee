"""What our mdoc verifier trusts: the IACA roots we publish, minus revoked Document Signers.

Read from ``mdoc_certificates`` and cached per process for a few seconds; a chain that
reaches none of the cached roots re-reads them (a root made by another process meanwhile),
so a forged chain costs one indexed read, as an unknown ``kid`` does. A revocation reaches
other processes within the cache's life.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import asyncpg
from cryptography import x509

from documents.mdoc.certificates import TrustedRoot

__all__ = ["Trust", "forget_cached", "trust", "trusted_roots"]

_CACHE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Trust:
    roots: list[TrustedRoot]
    #: SHA-256 of the DER of every revoked Document Signer certificate.
    revoked: frozenset[bytes]


_cached: list[tuple[float, Trust]] = []


def forget_cached() -> None:
    """Drop this process's cached trust (after making or revoking a certificate)."""
    _cached.clear()


async def trust(pool: asyncpg.Pool, *, refresh: bool = False) -> Trust:
    now = time.monotonic()
    if _cached and not refresh and now - _cached[0][0] < _CACHE_SECONDS:
        return _cached[0][1]
    rows = await pool.fetch(
        """SELECT role, org_id, der FROM mdoc_certificates
           WHERE (role = 'iaca' AND not_after > now()) OR (role = 'document_signer' AND revoked_at IS NOT NULL)"""
    )
    found = Trust(
        roots=[TrustedRoot(r["org_id"], x509.load_der_x509_certificate(r["der"])) for r in rows if r["role"] == "iaca"],
        revoked=frozenset(hashlib.sha256(r["der"]).digest() for r in rows if r["role"] == "document_signer"),
    )
    _cached[:] = [(now, found)]
    return found


async def trusted_roots(pool: asyncpg.Pool, *, refresh: bool = False) -> list[TrustedRoot]:
    """The IACA roots a verification trusts (every agency's still-valid ones)."""
    return (await trust(pool, refresh=refresh)).roots
