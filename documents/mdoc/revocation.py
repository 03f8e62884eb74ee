"""Revoking Document Signer certificates, and the CRL each IACA root publishes.

Each root, and every DS certificate it issues, names the root's CRL distribution point
(:func:`crl_url`). The current root's CRL is signed when asked for (valid
:data:`CRL_LIFETIME`); a replaced root's last CRL is signed as it is replaced, while its key
is still the active one, and lasts until the root expires. A CRL lists the DS certificates
an operator revoked (a DS key thought compromised: ``wallet documents revoke-mdoc-signer``);
one mdoc is revoked through the status list, not here. A DS certificate revoked after its
root was replaced is refused by our verifier but cannot enter that root's frozen CRL.
"""

from __future__ import annotations

import datetime as dt

import asyncpg
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from documents.credentials import issuer_url
from documents.issuer_keys import current_signing_key
from documents.mdoc.certificates import revocation_list
from documents.mdoc.keys import DS_KEY_PURPOSE, IACA_KEY_PURPOSE, NOT_AS_JWK, agency_lock
from documents.mdoc.trust import forget_cached
from wallet_api.kernel import DatabaseKeyProvider, SigningKey

__all__ = ["CRL_LIFETIME", "crl_url", "keep_final_crl", "revoke_document_signer", "root_crl"]

CRL_LIFETIME = dt.timedelta(days=7)


def crl_url(base_url: str, org_id: str, iaca_kid: str) -> str:
    """The CRL distribution point of a root (in the root and in every DS certificate it issues)."""
    return f"{issuer_url(base_url, org_id)}/iaca/{iaca_kid}.crl"


async def _revoked_under(conn: asyncpg.Connection | asyncpg.Pool, iaca_kid: str) -> list[tuple[int, dt.datetime]]:
    rows = await conn.fetch(
        """SELECT der, revoked_at FROM mdoc_certificates
           WHERE role = 'document_signer' AND issuer_kid = $1 AND revoked_at IS NOT NULL ORDER BY revoked_at""",
        iaca_kid,
    )
    return [(x509.load_der_x509_certificate(r["der"]).serial_number, r["revoked_at"]) for r in rows]


async def _signed_crl(
    conn: asyncpg.Connection | asyncpg.Pool, root: asyncpg.Record, key: SigningKey, next_update: dt.datetime
) -> bytes:
    crl = revocation_list(
        x509.load_der_x509_certificate(root["der"]),
        key.private_key,
        now=dt.datetime.now(dt.UTC),
        next_update=next_update,
        revoked=await _revoked_under(conn, root["kid"]),
    )
    return crl.public_bytes(serialization.Encoding.DER)


async def keep_final_crl(conn: asyncpg.Connection, root: asyncpg.Record, key: SigningKey) -> None:
    """Sign and keep a root's last CRL, valid until the root expires (it certifies nothing more)."""
    final = await _signed_crl(conn, root, key, root["not_after"])
    await conn.execute("UPDATE mdoc_certificates SET final_crl = $2 WHERE id = $1", root["id"], final)


async def root_crl(pool: asyncpg.Pool, keys: DatabaseKeyProvider, org_id: str, iaca_kid: str) -> bytes | None:
    """The DER CRL of one of the agency's roots: a replaced root's last one, the current
    root's signed now; None for a root we do not know."""
    row = await pool.fetchrow(
        """SELECT id, kid, der, final_crl, not_after FROM mdoc_certificates
           WHERE role = 'iaca' AND org_id = $1 AND kid = $2""",
        org_id,
        iaca_kid,
    )
    if row is None:
        return None
    if row["final_crl"] is not None:
        final: bytes = row["final_crl"]
        return final
    key = await current_signing_key(pool, keys, IACA_KEY_PURPOSE, org_id)
    if key.kid != iaca_kid:
        return None  # replaced outside this module (``wallet keys rotate``): no key to sign with
    return await _signed_crl(pool, row, key, dt.datetime.now(dt.UTC) + CRL_LIFETIME)


async def revoke_document_signer(pool: asyncpg.Pool, keys: DatabaseKeyProvider, org_id: str) -> str | None:
    """Revoke the agency's current Document Signer certificate and retire its key: its mdocs
    are refused from now on (by our verifier at once, by others through the root's CRL), and
    the next mdoc is signed by a new DS key. The revoked key's ``kid``; None if it had no
    certificate yet."""
    key = await current_signing_key(pool, keys, DS_KEY_PURPOSE, org_id)
    async with pool.acquire() as conn, conn.transaction():
        await agency_lock(conn, "ds", org_id)
        revoked = await conn.fetchval(
            """UPDATE mdoc_certificates SET revoked_at = now()
               WHERE role = 'document_signer' AND org_id = $1 AND kid = $2 AND revoked_at IS NULL
               RETURNING kid""",
            org_id,
            key.kid,
        )
        await keys.rotate(DS_KEY_PURPOSE, org_id, publish_until=NOT_AS_JWK)
    forget_cached()
    return str(revoked) if revoked is not None else None
