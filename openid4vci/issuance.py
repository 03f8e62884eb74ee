"""Minting a batch: one credential per holder key, all rows of ``credentials`` under one batch id.

Each credential of a batch has its own status-list position (drawn at random like any
other), its own salts and decoy digests (SD-JWT VC) or random digest ids and decoys (mdoc,
documents/mdoc), and its own holder key, so that two verifiers shown two credentials of one
batch find nothing in common but what the document says and who signed it. For the same
reason an SD-JWT VC's ``iat`` is the start of the day of issuance (UTC), the same for every
credential issued that day, not the second of the batch.

The rows carry the document's id and version, so the agency's update, suspension and
revocation (documents/service.py, acting on credentials by document) reach every
credential of every batch.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from uuid import UUID

import asyncpg

from documents.credentials import (
    DOCUMENTS_LEVEL,
    credential_claims,
    credential_validity,
    mint_document_credential,
)
from documents.issuer_keys import issuer_signing_key
from documents.mdoc import document_signer, mint_mdoc
from documents.statuslist import VALID, claim_positions, draw_positions, status_list_uri
from openid4vci.configurations import MSO_MDOC, Configuration
from openid4vci.errors import ProtocolError
from openid4vci.proofs import HolderKey
from wallet_api.kernel import DatabaseKeyProvider, Settings, b64url_encode

__all__ = ["issue_batch"]

_DAY = 86400
#: Mint-and-store rounds before giving up (another round only after a concurrent change).
_ATTEMPTS = 3

#: Mints one credential of a locked document row for a holder key at a status position:
#: (the credential as the response carries it, the SD-JWT text or the mdoc bytes stored).
Minter = Callable[[asyncpg.Record, HolderKey, UUID, int], tuple[str, str | None, bytes | None]]


def _denied(description: str) -> ProtocolError:
    return ProtocolError("credential_request_denied", description)


async def _minter(
    pool: asyncpg.Pool, keys: DatabaseKeyProvider, settings: Settings, wanted: Configuration, org_id: str
) -> tuple[str, Minter]:
    """The signing key's ``kid`` and the minting function of the configuration's format.

    Keys are fetched before the transaction, as the app's own credentials are (a first key
    of an issuer takes a connection of its own); a batch signs all its credentials with them.
    """
    base_url = settings.public_base_url
    if wanted.format == MSO_MDOC:
        signer = await document_signer(pool, keys, org_id, base_url=base_url)

        def mdoc(doc: asyncpg.Record, holder: HolderKey, list_id: UUID, idx: int) -> tuple[str, str | None, bytes]:
            valid_from, valid_until = credential_validity(doc)
            minted = mint_mdoc(
                signer,
                claims=credential_claims(doc),
                holder_jwk=holder.jwk,
                status_uri=status_list_uri(base_url, list_id),
                status_idx=idx,
                valid_until=valid_until,
                valid_from=valid_from,
            )
            return b64url_encode(minted), None, minted

        return signer.key.kid, mdoc
    key = await issuer_signing_key(pool, keys, org_id)
    iat = int(time.time()) // _DAY * _DAY

    def sd_jwt(doc: asyncpg.Record, holder: HolderKey, list_id: UUID, idx: int) -> tuple[str, str, None]:
        minted, _ = mint_document_credential(key, settings, doc, holder.jwk, list_id, idx, iat=iat)
        return minted, minted, None

    return key.kid, sd_jwt


async def _held_document(pool: asyncpg.Pool, account_id: UUID, document_id: UUID) -> asyncpg.Record:
    doc = await pool.fetchrow(
        """SELECT d.*, a.level AS holder_level, a.state AS account_state
           FROM documents d JOIN accounts a ON a.person_id = d.holder_id
           WHERE d.id = $1 AND a.id = $2""",
        document_id,
        account_id,
    )
    if doc is None:
        raise _denied("The document is no longer held by the account the offer was made for.")
    if doc["account_state"] != "active":
        raise _denied("The holder's account is not active.")
    if doc["holder_level"] < DOCUMENTS_LEVEL:
        raise _denied("The holder's account is below identification level 2.")
    if doc["state"] != "active":
        raise _denied(f"The document is {doc['state']}.")
    return doc


async def issue_batch(
    pool: asyncpg.Pool,
    keys: DatabaseKeyProvider,
    settings: Settings,
    wanted: Configuration,
    *,
    account_id: UUID,
    document_id: UUID,
    holders: list[HolderKey],
) -> list[str]:
    """Credentials of the document in the configuration, one per holder key, stored; refused
    unless the document is still the account's, active, and the account at the documents' level.

    Minted before the transaction that stores them, so that no lock is held while they are
    signed: the transaction holds the document ``FOR SHARE`` (an agency's change waits for it,
    then reaches these rows too; a change committed first is seen and the batch is minted
    again from the new version, or refused) and claims the drawn status positions (drawn
    again in the rare case one was taken meanwhile).
    """
    for _ in range(_ATTEMPTS):
        doc = await _held_document(pool, account_id, document_id)
        kid, mint = await _minter(pool, keys, settings, wanted, doc["issuer_org_id"])
        list_id, positions = await draw_positions(pool, doc["issuer_org_id"], len(holders))
        try:
            minted = [mint(doc, holder, list_id, idx) for holder, idx in zip(holders, positions, strict=True)]
        except ValueError as exc:  # an mdoc whose validity has ended, a key mdoc cannot carry
            raise _denied(f"This credential cannot be issued now ({exc}).") from None
        async with pool.acquire() as conn, conn.transaction():
            now = await conn.fetchrow("SELECT version, state FROM documents WHERE id = $1 FOR SHARE", document_id)
            if now["state"] != "active":
                raise _denied(f"The document is {now['state']}.")
            if now["version"] != doc["version"] or not await claim_positions(conn, list_id, positions):
                continue
            _, expires_at = credential_validity(doc)
            await conn.execute(
                """INSERT INTO credentials (document_id, version, kid, status_list_id, status_idx, status, expires_at,
                                            format, batch_id, holder_jkt, sd_jwt, mdoc)
                   SELECT $1, $2, $3, $4, idx, $5, $6, $7, $8, jkt, sd_jwt, mdoc
                   FROM unnest($9::int[], $10::text[], $11::text[], $12::bytea[]) AS t(idx, jkt, sd_jwt, mdoc)""",
                document_id,
                doc["version"],
                kid,
                list_id,
                VALID,
                expires_at,
                wanted.format,
                uuid.uuid4(),
                positions,
                [holder.jkt for holder in holders],
                [text for _, text, _ in minted],
                [data for _, _, data in minted],
            )
            return [credential for credential, _, _ in minted]
    raise ProtocolError("temporarily_unavailable", "The document changed while issuing; try again.", status=503)
