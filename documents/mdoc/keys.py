"""The mdoc keys each driving-licence agency has in the key provider (``signing_keys``).

``mdoc-iaca`` is the agency's root, ``mdoc-ds`` its Document Signer: both P-256, owner = the
agency, encrypted under the KEK like every signing key, and made at start-up for every
agency allowed to issue driving licences, so its root is published before its first mdoc.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from wallet_api.kernel import KeyRequirement

__all__ = ["DS_KEYS", "DS_KEY_PURPOSE", "IACA_KEYS", "IACA_KEY_PURPOSE", "MDL_ISSUERS_SQL", "NOT_AS_JWK", "agency_lock"]

IACA_KEY_PURPOSE = "mdoc-iaca"
DS_KEY_PURPOSE = "mdoc-ds"
#: The agencies that issue driving licences (one text column: their organisation ids).
MDL_ISSUERS_SQL = "SELECT id FROM organisations WHERE kind = 'issuer' AND 'driving_licence' = ANY(document_types)"
#: ``publish_until`` of a replaced mdoc key: the key provider publishes every key in
#: /.well-known/jwks.json, but mdoc readers take keys from certificates only, so a replaced
#: (perhaps revoked) mdoc key leaves the JWK set at once instead of staying there for good.
NOT_AS_JWK = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
IACA_KEYS = KeyRequirement(IACA_KEY_PURPOSE, MDL_ISSUERS_SQL)
DS_KEYS = KeyRequirement(DS_KEY_PURPOSE, MDL_ISSUERS_SQL)


async def agency_lock(conn: asyncpg.Connection, what: str, org_id: str) -> None:
    """Serialise, across processes, the making or replacing of one agency's ``what`` ("iaca",
    "ds") for the rest of ``conn``'s transaction."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('mdoc:' || $1 || ':' || $2))", what, org_id)
