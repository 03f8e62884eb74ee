"""Brute-force limits held in Redis, correct across any number of API processes.

Two tools, both single Lua scripts (atomic on the Redis server, so concurrent processes
cannot race between "read" and "write"):

* :func:`hit` — a fixed-window request budget (``INCR`` + ``EXPIRE`` on the first hit).
* :class:`Lockout` — failure counting with lockout and exponential backoff: after
  ``threshold`` failures within ``window`` seconds the subject is locked for ``base``
  seconds, doubling on each further lockout within a day, up to ``cap``. A success clears
  the failure count (not the backoff level).

Keys hash the subject (an ID number, a username, a device id) so that no personal data sits
in Redis key names. Keys use a hash tag so a script's keys live in one Redis Cluster slot.
Litestar's built-in rate-limit middleware counts per process and is not used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis.asyncio as aioredis

from wallet_api.problems import TooManyRequests
from wallet_api.redis_client import LuaScript

__all__ = ["LOCKOUTS", "Lockout", "hit", "subject_key"]


_HIT = LuaScript("""
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then return redis.call('TTL', KEYS[1]) end
return 0
""")

# KEYS: failures, lock, level.  ARGV: window, threshold, base, cap.
# Returns the lock duration in seconds when this failure locks the subject, else 0.
_FAIL = LuaScript("""
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[2]) then
  local level = redis.call('INCR', KEYS[3])
  redis.call('EXPIRE', KEYS[3], 86400)
  local ttl = math.min(tonumber(ARGV[3]) * 2 ^ (level - 1), tonumber(ARGV[4]))
  redis.call('SET', KEYS[2], level, 'EX', math.floor(ttl))
  redis.call('DEL', KEYS[1])
  return math.floor(ttl)
end
return 0
""")


def subject_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


async def hit(redis: aioredis.Redis, name: str, subject: str, *, limit: int, window: int) -> None:
    """Count one request against ``limit`` per ``window`` seconds; raise 429 when over."""
    key = f"rl:{{{name}:{subject_key(subject)}}}"
    retry = int(await _HIT(redis, (key,), window, limit))
    if retry:
        raise TooManyRequests("Too many attempts; try again later.", retry_after=max(retry, 1))


@dataclass(frozen=True, slots=True)
class Lockout:
    name: str
    threshold: int
    window: int
    base: int
    cap: int

    def hash_tag(self, subject: str) -> str:
        """The Redis Cluster hash tag of this subject's keys; other keys about it may share it."""
        return f"{{lk:{self.name}:{subject_key(subject)}}}"

    def _keys(self, subject: str) -> tuple[str, str, str]:
        tag = self.hash_tag(subject)
        return f"{tag}:fails", f"{tag}:lock", f"{tag}:level"

    def lock_key(self, subject: str) -> str:
        return self._keys(subject)[1]

    def locked(self, ttl: int) -> TooManyRequests:
        return TooManyRequests(
            "Too many failed attempts; wait before trying again.",
            slug="locked-out",
            title="Temporarily locked",
            retry_after=ttl,
        )

    async def check(self, redis: aioredis.Redis, subject: str) -> None:
        """Raise 429 (``locked-out``) while the subject is locked."""
        ttl = int(await redis.ttl(self._keys(subject)[1]))
        if ttl > 0:
            raise self.locked(ttl)

    async def failure(self, redis: aioredis.Redis, subject: str) -> int:
        """Record a failure; returns the lock duration if this one locked the subject."""
        fails, lock, level = self._keys(subject)
        return int(await _FAIL(redis, (fails, lock, level), self.window, self.threshold, self.base, self.cap))

    async def success(self, redis: aioredis.Redis, subject: str) -> None:
        await redis.delete(self._keys(subject)[0])


#: The lockout policies, in one place.
LOCKOUTS = {
    # Password + OTP for a new device or recovery, per person (ID number).
    "password": Lockout("password", threshold=5, window=900, base=300, cap=86400),
    # One-time codes, per person or registration.
    "otp": Lockout("otp", threshold=5, window=900, base=300, cap=86400),
    # Device signatures that fail to verify, per device.
    "device": Lockout("device", threshold=10, window=300, base=60, cap=3600),
    # Officer passwords, per username.
    "officer": Lockout("officer", threshold=5, window=900, base=300, cap=86400),
    # OAuth2 client authentication, per client id.
    "client": Lockout("client", threshold=10, window=300, base=60, cap=3600),
}
