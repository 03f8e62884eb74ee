"""Level 2 in the app: a signed-in citizen proves themselves with the chip ID card and a selfie.

1. ``POST /v1/proofing/chip-challenges``: a fresh 8-byte challenge for the chip.
2. The app reads the chip (NFC), has it sign the challenge, takes a live selfie and sends
   all of it to ``POST /v1/proofing/chip-proofs``. The chip must be this account's
   person's, genuine (passive and active authentication), match the registry, and the
   selfie must match the chip's photo. The account rises to level 2 (audited, announced);
   the next refresh or sign-in carries it.

A refused attempt changes no account; it is audited (``proofing.refused``, with the
reason only) so that repeated attempts on one account can be seen.
"""

from __future__ import annotations

import uuid

import asyncpg
from litestar import post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from proofing.challenges import new_challenge, take_challenge
from proofing.chip import ChipRefused
from proofing.schemas import ChallengeView, ChipProof, ProofOutcome
from proofing.service import prove_holder
from proofing.upload import UPLOAD_LIMITS
from wallet_api.accounts.level_two import raise_to_level_2
from wallet_api.accounts.ratelimit import hit
from wallet_api.kernel import NOT_REPLAYED, AppServices, Caller, Conflict, Db, NotFound, RedisClient, citizen, record

__all__ = ["ROUTES", "record_refusal"]

#: Chip attempts one account may start per hour.
_ATTEMPTS_PER_HOUR = 10


async def record_refusal(db: asyncpg.Pool, *, actor: str, subject: str, refusal: ChipRefused) -> None:
    async with db.acquire() as conn, conn.transaction():
        await record(conn, actor=actor, action="proofing.refused", subject=subject, details={"reason": refusal.slug})


@post(
    "/v1/proofing/chip-challenges",
    guards=[citizen],
    opt=NOT_REPLAYED,
    tags=["proofing"],
    summary="A fresh challenge for the chip ID card to sign (level 2 in the app)",
    status_code=HTTP_201_CREATED,
)
async def chip_challenge(principal: Caller, redis: RedisClient) -> ChallengeView:
    await hit(redis, "proofing-account", principal.subject, limit=_ATTEMPTS_PER_HOUR, window=3600)
    challenge = await new_challenge(redis, f"account:{principal.subject}")
    return ChallengeView(challenge_id=challenge.id, challenge=challenge.nonce.hex(), expires_in=challenge.expires_in)


@post(
    "/v1/proofing/chip-proofs",
    guards=[citizen],
    opt=NOT_REPLAYED,
    tags=["proofing"],
    summary="Prove myself with my chip ID card and a selfie; my account rises to level 2",
    status_code=HTTP_200_OK,
    **UPLOAD_LIMITS,
)
async def chip_proof(
    principal: Caller, data: JSONBody[ChipProof], db: Db, redis: RedisClient, services: AppServices
) -> ProofOutcome:
    account_id = uuid.UUID(principal.subject)
    account = await db.fetchrow("SELECT person_id, state FROM accounts WHERE id = $1", account_id)
    if account is None:
        raise NotFound("No such account.")
    if account["state"] != "active":
        raise Conflict("The account is frozen.", slug="account-frozen")
    nonce = await take_challenge(redis, data.challenge_id, f"account:{principal.subject}")
    try:
        proven = await prove_holder(services, data, nonce, expected_person_id=account["person_id"])
    except ChipRefused as refusal:
        await record_refusal(db, actor=principal.key, subject=f"account:{account_id}", refusal=refusal)
        raise
    async with db.acquire() as conn, conn.transaction():
        state = await conn.fetchval("SELECT state FROM accounts WHERE id = $1 FOR UPDATE", account_id)
        if state != "active":
            raise Conflict("The account is frozen.", slug="account-frozen")
        await raise_to_level_2(
            conn,
            account_id,
            actor=principal.key,
            via="chip+face",
            details={"document_signer": proven.document_signer, "face_score": proven.face_score},
        )
    return ProofOutcome(
        account_id=str(account_id), level=2, message="Identification level 2: refresh your session to use it."
    )


ROUTES = [chip_challenge, chip_proof]
