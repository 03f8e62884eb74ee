"""One-time SMS codes: six digits, hashed in Redis, a few attempts, short life.

A code is stored as HMAC-free SHA-256 of (reference, code): the reference is random and
single-use, so a hash per reference is enough to keep codes out of Redis in clear. Checking
is one Lua script: compare, count the attempt, burn the code on success or on the last
allowed attempt, all atomically across processes.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

import redis.asyncio as aioredis

from wallet_api.kernel import LuaScript, SendFailed, SmsSender

__all__ = ["MAX_ATTEMPTS", "check_code", "issue_code", "plant_unusable_code"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5

_CHECK = LuaScript("""
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return -1 end
if h == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) end
return 0
""")

_TEXT = {
    "vi": "Mã xác thực Citizen Wallet của bạn là {code}. Không chia sẻ mã này với bất kỳ ai.",
    "en": "Your Citizen Wallet code is {code}. Never share it with anyone.",
}


def _key(purpose: str, reference: str) -> str:
    return f"otp:{purpose}:{reference}"


def _digest(reference: str, code: str) -> str:
    return hashlib.sha256(f"{reference}:{code}".encode()).hexdigest()


async def issue_code(
    redis: aioredis.Redis,
    sms: SmsSender,
    *,
    purpose: str,
    reference: str,
    phone: str,
    ttl: int,
    language: str = "vi",
) -> bool:
    """Create a code for ``reference`` and text it to ``phone``; False if the gateway failed."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    key = _key(purpose, reference)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping={"h": _digest(reference, code), "n": 0})
        pipe.expire(key, ttl)
        await pipe.execute()
    try:
        await sms.send(phone, _TEXT.get(language, _TEXT["vi"]).format(code=code), reference=f"{purpose}:{reference}")
    except SendFailed as exc:
        log.warning("otp sms failed", extra={"purpose": purpose, "error": exc.reason})
        return False
    return True


async def plant_unusable_code(redis: aioredis.Redis, *, purpose: str, reference: str, ttl: int) -> None:
    """Store a code nobody knows, so that checking behaves exactly as for a real one."""
    key = _key(purpose, reference)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping={"h": secrets.token_hex(32), "n": 0})
        pipe.expire(key, ttl)
        await pipe.execute()


async def check_code(redis: aioredis.Redis, *, purpose: str, reference: str, code: str) -> bool:
    """True once for the right code; a code dies after success or :data:`MAX_ATTEMPTS` tries."""
    result = await _CHECK(redis, (_key(purpose, reference),), _digest(reference, code.strip()), MAX_ATTEMPTS)
    return int(result) == 1
