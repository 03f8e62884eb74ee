"""Device keys and challenges: the proof that a request comes from a bound phone.

Each phone holds a P-256 key pair (in its secure hardware in real life); we store only the
public key as a JWK. To prove itself the phone signs a server challenge with ECDSA P-256 /
SHA-256 and sends the signature as base64url of raw ``r || s`` (64 bytes, the JWS ES256
form) or of DER (what Android and iOS produce); both are read by the one JOSE module
(``wallet_api/keys/jose.py``), as strictly as every other signature.
Challenges are random, single-use (``GETDEL``) and short-lived, kept in Redis with their
purpose and device, so a challenge issued for sign-in cannot be used for step-up or by
another device.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio as aioredis

from wallet_api.accounts.ratelimit import LOCKOUTS, subject_key
from wallet_api.kernel import (
    JoseError,
    LuaScript,
    TooManyRequests,
    Unauthorized,
    b64url_decode,
    ec_public_key,
    es256_verify,
    jwk_thumbprint,
)

__all__ = [
    "Challenge",
    "ChallengePurpose",
    "InvalidDeviceKey",
    "challenge_key",
    "consume_challenge",
    "issue_challenge",
    "normalise_public_jwk",
    "verify_signature",
]

ChallengePurpose = Literal["sign-in", "step-up", "bind"]


class InvalidDeviceKey(ValueError):
    """The public key is not a P-256 public JWK."""


def normalise_public_jwk(jwk: Any) -> dict[str, str]:
    """Keep only the public members of an EC P-256 JWK; refuse anything else (or a private key)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise InvalidDeviceKey("the device key must be an EC P-256 JWK")
    if "d" in jwk:
        raise InvalidDeviceKey("send the public key only")
    try:
        ec_public_key(jwk)
    except JoseError as exc:
        raise InvalidDeviceKey(f"x and y must be the canonical base64url of a P-256 point ({exc})") from exc
    clean = {"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"]}
    return {**clean, "kid": jwk_thumbprint(clean)}


def verify_signature(jwk: dict[str, Any], message: bytes, signature_b64: str) -> bool:
    """Check an ES256 signature (base64url of raw ``r || s`` or of DER) by the device key ``jwk``."""
    try:
        return es256_verify(ec_public_key(jwk), b64url_decode(signature_b64), message, device=True)
    except JoseError:
        return False


@dataclass(frozen=True, slots=True)
class Challenge:
    value: str
    purpose: ChallengePurpose
    #: The device that must answer it (empty for binding a key not yet known).
    device_id: str
    expires_in: int


def challenge_key(value: str, device_id: str) -> str:
    """Where a challenge lives in Redis.

    Every per-device key (the challenge, its rate counter, the device's lockout) carries the
    device lockout's hash tag, so one script may touch them all in a Redis Cluster slot.
    """
    return f"{LOCKOUTS['device'].hash_tag(device_id)}:chal:{value}"


def _rate_key(device_id: str, source: str) -> str:
    # Per device *and* source: nobody can spend a phone's challenges from elsewhere.
    return f"{LOCKOUTS['device'].hash_tag(device_id)}:chal-rate:{subject_key(source)}"


# KEYS: rate counter, challenge.  ARGV: window, limit, stored value, ttl.
# Counts the request and stores the challenge in one round trip; returns the seconds to
# wait when over the limit (the challenge is then not stored).
_ISSUE = LuaScript("""
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then return redis.call('TTL', KEYS[1]) end
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
return 0
""")


async def issue_challenge(
    redis: aioredis.Redis,
    purpose: ChallengePurpose,
    device_id: str,
    *,
    source: str,
    ttl: int,
    context: str = "",
    per_minute: int = 30,
) -> Challenge:
    """A fresh single-use challenge, at most ``per_minute`` per device and source; ``context`` binds extra data."""
    value = secrets.token_urlsafe(32)
    stored = json.dumps([purpose, device_id, context])
    retry = int(
        await _ISSUE(
            redis, (_rate_key(device_id, source), challenge_key(value, device_id)), 60, per_minute, stored, ttl
        )
    )
    if retry:
        raise TooManyRequests("Too many challenges for this device; try again later.", retry_after=max(retry, 1))
    return Challenge(value=value, purpose=purpose, device_id=device_id, expires_in=ttl)


# KEYS: the device's lock, challenge.  Returns {seconds left on the lock, challenge or nil}.
_CONSUME = LuaScript("""
return {redis.call('TTL', KEYS[1]), redis.call('GETDEL', KEYS[2])}
""")


async def consume_challenge(
    redis: aioredis.Redis,
    value: str,
    purpose: ChallengePurpose,
    device_id: str,
    *,
    source: str,
    context: str = "",
) -> None:
    """Burn the challenge; raise unless it exists, is unexpired and matches purpose, device and context.

    The lock of this device for this source (``LOCKOUTS["device"]``) is read in the same
    script, one round trip: a locked pair is refused (429) whatever its challenge, and the
    challenge is burnt either way. Bad signatures from elsewhere never lock the phone itself.
    """
    if not isinstance(value, str) or not 16 <= len(value) <= 128:
        raise _bad_challenge()
    lockout = LOCKOUTS["device"]
    lock_ttl, raw = await _CONSUME(redis, (lockout.lock_key(device_id, source), challenge_key(value, device_id)))
    if int(lock_ttl) > 0:
        raise lockout.locked(int(lock_ttl))
    if raw is None:
        raise _bad_challenge()
    stored = json.loads(raw)
    if stored != [purpose, device_id, context]:
        raise _bad_challenge()


def _bad_challenge() -> Unauthorized:
    return Unauthorized(
        "The challenge is unknown, expired or already used; ask for a new one.",
        slug="invalid-challenge",
        title="Invalid challenge",
    )
