"""Minting a batch: one credential per holder key, all rows of ``credentials`` under one batch id.

Each credential of a batch has its own status-list position (drawn at random like any
other), its own salts and decoy digests, and its own holder key, so that two verifiers
shown two credentials of one batch find nothing in common but what the document says and
who signed it. For the same reason ``iat`` is the start of the day of issuance (UTC), the
same for every credential issued that day, not the second of the batch.

The rows carry the document's id and version, so the agency's update, suspension and
revocation (documents/service.py, acting on credentials by document) reach every
credential of every batch.
"""

from __future__ import annotations

import time
import uuid
from uuid import UUID

import asyncpg

from documents.credentials import DOCUMENTS_LEVEL, mint_document_credential
from documents.issuer_keys import issuer_signing_key
from documents.statuslist import VALID, allocate_indexes
from openid4vci.errors import ProtocolError
from openid4vci.proofs import HolderKey
from wallet_api.kernel import DatabaseKeyProvider, Settings

__all__ = ["issue_batch"]

_DAY = 86400


def _denied(description: str) -> ProtocolError:
    return ProtocolError("credential_request_denied", description)


async def issue_batch(
    pool: asyncpg.Pool,
    keys: DatabaseKeyProvider,
    settings: Settings,
    *,
    account_id: UUID,
    document_id: UUID,
    holders: list[HolderKey],
) -> list[str]:
    """SD-JWT VCs of the document for each holder key, stored; refused unless the document is
    still the account's, active, and the account at the documents' level."""
    issuer_org_id = await pool.fetchval("SELECT issuer_org_id FROM documents WHERE id = $1", document_id)
    if issuer_org_id is None:
        raise ProtocolError("unknown_credential_identifier", "No such document.")
    # Fetched before the transaction, as the app's own credentials are (a first key of an
    # issuer takes a connection of its own).
    key = await issuer_signing_key(pool, keys, issuer_org_id)
    iat = int(time.time()) // _DAY * _DAY
    batch_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        doc = await conn.fetchrow(
            """SELECT d.*, a.level AS holder_level FROM documents d JOIN accounts a ON a.person_id = d.holder_id
               WHERE d.id = $1 AND a.id = $2 FOR UPDATE OF d""",
            document_id,
            account_id,
        )
        if doc is None:
            raise _denied("The document is no longer held by the account the offer was made for.")
        if doc["holder_level"] < DOCUMENTS_LEVEL:
            raise _denied("The holder's account is below identification level 2.")
        if doc["state"] != "active":
            raise _denied(f"The document is {doc['state']}.")
        list_id, indexes = await allocate_indexes(conn, issuer_org_id, len(holders))
        minted = [
            mint_document_credential(key, settings, doc, holder.jwk, list_id, idx, iat=iat)
            for holder, idx in zip(holders, indexes, strict=True)
        ]
        await conn.execute(
            """INSERT INTO credentials (document_id, version, kid, status_list_id, status_idx, status, sd_jwt,
                                        expires_at, holder_jkt, format, batch_id)
               SELECT $1, $2, $3, $4, idx, $5, sd_jwt, $6, jkt, 'dc+sd-jwt', $7
               FROM unnest($8::int[], $9::text[], $10::text[]) AS t(idx, sd_jwt, jkt)""",
            document_id,
            doc["version"],
            key.kid,
            list_id,
            VALID,
            minted[0][1],
            batch_id,
            indexes,
            [sd_jwt for sd_jwt, _ in minted],
            [holder.jkt for holder in holders],
        )
    return [sd_jwt for sd_jwt, _ in minted]
