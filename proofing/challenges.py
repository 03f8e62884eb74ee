"""Chip challenges: a fresh 8-byte nonce for the chip to sign, usable once, for a few minutes.

Kept in Redis: a lost challenge costs the citizen one more tap (they ask for a new one),
which is what Redis may lose. Taking a challenge deletes it and leaves a "used" marker in
the same script, so a replayed answer is told apart from an unknown or expired one.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from proofing.chip import ChipRefused
from wallet_api.kernel import LuaScript

__all__ = ["CHALLENGE_TTL_SECONDS", "ChipChallenge", "new_challenge", "take_challenge"]

#: Long enough to hold the card to the phone, short enough that a challenge is fresh.
CHALLENGE_TTL_SECONDS = 300
_USED_MARKER_SECONDS = 3600

# KEYS: the challenge, its used marker. Returns the record, 'used' or nil.
_TAKE = LuaScript("""
local record = redis.call('GET', KEYS[1])
if record then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[1]))
  return record
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'used' end
return false
""")


@dataclass(frozen=True, slots=True)
class ChipChallenge:
    id: str
    nonce: bytes
    expires_in: int


def _keys(challenge_id: str) -> tuple[str, str]:
    # Only a digest of the id is a key name: a Redis dump hands out no usable challenge id.
    digest = hashlib.sha256(challenge_id.encode()).hexdigest()
    return f"proofing:challenge:{{{digest}}}", f"proofing:challenge-used:{{{digest}}}"


async def new_challenge(redis: aioredis.Redis, owner: str) -> ChipChallenge:
    """A challenge that only ``owner`` (``account:<id>`` or ``recovery:<id>``) may answer."""
    challenge = ChipChallenge(id=secrets.token_urlsafe(24), nonce=os.urandom(8), expires_in=CHALLENGE_TTL_SECONDS)
    live, _ = _keys(challenge.id)
    await redis.set(live, json.dumps({"owner": owner, "nonce": challenge.nonce.hex()}), ex=CHALLENGE_TTL_SECONDS)
    return challenge


async def take_challenge(redis: aioredis.Redis, challenge_id: str, owner: str) -> bytes:
    """The nonce of this challenge, which is used up by this call; refused if not ``owner``'s."""
    invalid = ChipRefused("chip-challenge-invalid", "Ask for a new chip challenge and read the card again.")
    if not 16 <= len(challenge_id) <= 64:
        raise invalid
    found = await _TAKE(redis, _keys(challenge_id), _USED_MARKER_SECONDS)
    if found in (b"used", "used"):
        raise ChipRefused("chip-challenge-replayed", "This chip challenge was already answered; ask for a new one.")
    if not found:
        raise invalid
    record = json.loads(found)
    if record["owner"] != owner:
        raise invalid
    return bytes.fromhex(record["nonce"])
