"""Credential offers of the pre-authorized code flow: made, shown, and their transaction codes.

An offer names one holder's documents. Its URI reference (``credential_offer_uri``) and its
pre-authorized code are kept only as SHA-256 digests; the code is derived from the
reference (a one-way function), so the offer JSON can carry it without the database ever
holding either. The transaction code, a few digits, is kept as an HMAC under a secret
derived from the key-encryption key (``subject_key``), since a plain digest of six digits
is reversed at once.

* The citizen in the app makes an offer for their own documents: the answer carries the
  offer URI (and QR) and the transaction code, both shown only in the app.
* An issuing agency makes one for a named holder of its documents: its answer carries the
  offer URI, never a transaction code. The holder is told by a notice (no code in it: push
  services are not ours, and an inbox row outlives the offer); the app then asks for the
  code, which is made at that moment (a new one each time: only the latest works).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import UUID

import asyncpg

from openid4vci.authorization.endpoints import AUTHORIZATION_CODE_GRANT
from openid4vci.configurations import configurations_of
from openid4vci.metadata import OFFERS_PATH, PRE_AUTHORIZED_GRANT, credential_issuer, endpoint
from wallet_api.accounts.ratelimit import subject_key
from wallet_api.kernel import Settings

__all__ = [
    "MadeOffer",
    "code_digest",
    "insert_offer",
    "offer_json",
    "offer_uri",
    "ref_digest",
    "tx_code_digest",
    "tx_code_matches",
]

OFFER_SCHEME = "openid-credential-offer://"
#: Where the holder finds the transaction code, for the wallet to show beside its input.
_TX_CODE_WHERE = {
    "citizen": "Mã giao dịch hiện trong ứng dụng Ví công dân / The code is shown in the Citizen Wallet app",
    "agency": "Mở thông báo trong ứng dụng Ví công dân để xem mã / Open the notice in the Citizen Wallet app",
}


@dataclass(frozen=True, slots=True)
class MadeOffer:
    offer_id: UUID
    #: The offer's URI reference: a bearer secret (it yields the pre-authorized code).
    ref: str
    expires_at: dt.datetime


def ref_digest(ref: str) -> bytes:
    return hashlib.sha256(b"offer-ref:" + ref.encode()).digest()


def _code_of(ref: str) -> str:
    return hashlib.sha256(b"pre-authorized-code:" + ref.encode()).hexdigest()


def code_digest(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


def tx_code_digest(offer_id: UUID, tx_code: str) -> str:
    return subject_key("oid4vci-tx-code", str(offer_id), tx_code)


def tx_code_matches(offer_id: UUID, stored: str | None, tx_code: str) -> bool:
    return stored is not None and secrets.compare_digest(stored, tx_code_digest(offer_id, tx_code))


def new_tx_code(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


async def insert_offer(
    conn: asyncpg.Connection,
    settings: Settings,
    account_id: UUID,
    document_ids: list[UUID],
    *,
    by_agency: str | None,
) -> tuple[MadeOffer, str | None]:
    """Store an offer of the holder's (``by_agency``: None) or of that agency; returns it and,
    for the holder's own, its transaction code (to show once; an agency's is made later)."""
    ref = secrets.token_urlsafe(32)
    offer_id = uuid.uuid4()
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.openid4vci.offer_ttl_seconds)
    tx_code = new_tx_code(settings.openid4vci.tx_code_length) if by_agency is None else None
    await conn.execute(
        """INSERT INTO credential_offers (id, ref_hash, code_hash, tx_code_hash, account_id, document_ids, made_by,
                                          issuer_org_id, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        offer_id,
        ref_digest(ref),
        code_digest(_code_of(ref)),
        tx_code_digest(offer_id, tx_code) if tx_code is not None else None,
        account_id,
        document_ids,
        "citizen" if by_agency is None else "agency",
        by_agency,
        expires_at,
    )
    return MadeOffer(offer_id, ref, expires_at), tx_code


def offer_uri(settings: Settings, ref: str) -> tuple[str, str]:
    """(the ``credential_offer_uri``, the ``openid-credential-offer://`` link a QR carries)."""
    uri = f"{endpoint(settings, OFFERS_PATH)}/{ref}"
    return uri, f"{OFFER_SCHEME}?credential_offer_uri={quote(uri, safe='')}"


async def offer_json(pool: asyncpg.Pool, settings: Settings, ref: str) -> dict[str, Any] | None:
    """The Credential Offer object of a live offer (None: unknown, expired, redeemed or dead)."""
    row = await pool.fetchrow(
        """SELECT o.made_by, array_agg(DISTINCT d.doc_type ORDER BY d.doc_type) AS doc_types
           FROM credential_offers o JOIN documents d ON d.id = ANY(o.document_ids)
           WHERE o.ref_hash = $1 AND o.redeemed_at IS NULL AND o.expires_at > now() AND o.tx_failures < $2
           GROUP BY o.id""",
        ref_digest(ref),
        settings.openid4vci.tx_code_max_failures,
    )
    if row is None:
        return None
    where = _TX_CODE_WHERE[row["made_by"]]
    return {
        "credential_issuer": credential_issuer(settings),
        "credential_configuration_ids": [c for t in row["doc_types"] for c in configurations_of(t)],
        "grants": {
            # The wallet may instead run the authorization code flow (HAIP §4.1.2: offered too),
            # where the holder approves in the app; this offer's code then simply expires.
            AUTHORIZATION_CODE_GRANT: {},
            PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": _code_of(ref),
                "tx_code": {
                    "input_mode": "numeric",
                    "length": settings.openid4vci.tx_code_length,
                    "description": where,
                },
            },
        },
    }
