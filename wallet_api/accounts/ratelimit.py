"""Brute-force limits held in Redis, correct across any number of API processes.

Two tools, both behind the rate-limit interface of ``wallet_api/ratelimit.py``:

* :func:`hit` — a fixed-window request budget (a :class:`~wallet_api.ratelimit.FixedWindow`,
  counted by the ``limits`` library).
* :class:`Lockout` — a few single Lua scripts (atomic on the Redis server, so concurrent
  processes cannot race between "read" and "write"): failure counting with lockout and exponential backoff, **by source
  before by account**, so that nobody can lock someone else out:

  - failures of one source (a client address, ``wallet_api/client_address.py``) on one
    subject lock that pair: after ``threshold`` failures within ``window`` seconds for
    ``base`` seconds, doubling on each further lockout within a day, up to ``cap``. The
    subject's owner, calling from elsewhere, is not affected;
  - failures of one source over every subject (spraying) lock the source;
  - failures on one subject from every source together (a distributed guess) past
    ``subject_ceiling`` within an hour refuse the sources that never succeeded for that
    subject; the sources it succeeded from in the last 30 days keep working.

  A success clears the pair's failure count (not its backoff level) and remembers the
  source as known for the subject.

Key names carry an HMAC of the subject (an ID number, a username, a device id, an address)
under a server secret derived from the key-encryption key, so nobody who can list Redis
keys can reverse them (an unsalted hash of a 12-digit ID number falls in seconds). Keys
about one subject share a hash tag, and keys about one source another, so each script's
keys live in one Redis Cluster slot. Litestar's built-in rate-limit middleware counts per
process and is not used.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass

import redis.asyncio as aioredis

from wallet_api.kernel import FixedWindow, LuaScript, TooManyRequests, enforce

__all__ = ["LOCKOUTS", "Lockout", "hit", "key_names_secret", "subject_key", "use_key_names_secret"]

#: How long a source that succeeded for a subject stays "known" (exempt from the subject's ceiling).
_KNOWN_SECONDS = 30 * 86400
_CEILING_WINDOW = 3600

# KEYS: failures, lock, level.  ARGV: window, threshold, base, cap.
# Returns the lock duration in seconds when this failure locks, else 0.
_FAIL = """
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
"""
_FAIL_LOCK = LuaScript(_FAIL)

# KEYS: pair failures, pair lock, pair level, the subject's failures from every source.
# ARGV: window, threshold, base, cap, ceiling window.
_FAIL_PAIR = LuaScript(
    """
local all = redis.call('INCR', KEYS[4])
if all == 1 then redis.call('EXPIRE', KEYS[4], ARGV[5]) end
"""
    + _FAIL
)

# KEYS: pair lock, the subject's failures from every source, its known sources.
# ARGV: ceiling (0: none), this source's name.  Returns seconds to wait, or 0.
_CHECK_PAIR = LuaScript("""
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then return ttl end
local ceiling = tonumber(ARGV[1])
if ceiling > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= ceiling
   and redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0 then
  return math.max(redis.call('TTL', KEYS[2]), 1)
end
return 0
""")

# KEYS: pair failures, known sources.  ARGV: this source's name, how long it stays known.
_SUCCEED = LuaScript("""
redis.call('DEL', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 0
""")


class _Secret:
    """The process's key for naming Redis keys; set once at start from the key-encryption key."""

    value: bytes | None = None


def use_key_names_secret(secret: bytes) -> None:
    """Name Redis keys with ``secret`` from now on (the app's lifespan calls this at start)."""
    _Secret.value = secret


def key_names_secret(kek: bytes) -> bytes:
    """The secret for key names, derived from the key-encryption key (every process agrees)."""
    return hmac.new(kek, b"citizen-wallet:redis-key-names", hashlib.sha256).digest()


def subject_key(*parts: str) -> str:
    """An HMAC of ``parts`` under the server secret: a key name nobody can reverse."""
    if _Secret.value is None:
        raise RuntimeError("Redis key names are keyed by a server secret: call use_key_names_secret() at start")
    return _keyed(_Secret.value, parts)


# The sign-in routes name the same device and source keys a few times per request; the
# names of recent subjects are remembered (bounded) rather than recomputed.
@functools.lru_cache(maxsize=65536)
def _keyed(secret: bytes, parts: tuple[str, ...]) -> str:
    return hmac.digest(secret, "\x1f".join(parts).encode(), "sha256").hex()[:32]


@functools.cache
def _window(name: str, limit: int, window: int) -> FixedWindow:
    return FixedWindow(name, limit, window)


async def hit(redis: aioredis.Redis, name: str, *subject: str, limit: int, window: int) -> None:
    """Count one request of ``subject`` (one or more parts) against ``limit`` per ``window`` seconds; 429 when over."""
    await enforce(_window(name, limit, window), redis, subject_key(*subject))


@dataclass(frozen=True, slots=True)
class Lockout:
    name: str
    #: Failures of one source on one subject within ``window`` seconds that lock that pair.
    threshold: int
    window: int
    base: int
    cap: int
    #: Failures of one source over every subject within ``window`` that lock the source (0: none).
    source_threshold: int = 0
    #: Failures on one subject from every source within an hour after which only the sources
    #: it succeeded from are let through (0: none — for credentials nobody can guess).
    subject_ceiling: int = 0

    def hash_tag(self, subject: str) -> str:
        """The Redis Cluster hash tag of this subject's keys; other keys about it may share it."""
        return f"{{lk:{self.name}:{subject_key(subject)}}}"

    def _pair_keys(self, subject: str, source: str) -> tuple[str, str, str]:
        pair = f"{self.hash_tag(subject)}:{subject_key(source)}"
        return f"{pair}:fails", f"{pair}:lock", f"{pair}:level"

    def _subject_keys(self, subject: str) -> tuple[str, str]:
        tag = self.hash_tag(subject)
        return f"{tag}:all-fails", f"{tag}:known"

    def _source_keys(self, source: str) -> tuple[str, str, str]:
        tag = f"{{lk:{self.name}:src:{subject_key(source)}}}"
        return f"{tag}:fails", f"{tag}:lock", f"{tag}:level"

    def lock_key(self, subject: str, source: str) -> str:
        """The key whose TTL is the pair's remaining lock (for scripts that read it themselves)."""
        return self._pair_keys(subject, source)[1]

    def locked(self, ttl: int) -> TooManyRequests:
        return TooManyRequests(
            "Too many failed attempts; wait before trying again.",
            slug="locked-out",
            title="Temporarily locked",
            retry_after=ttl,
        )

    async def acquire(self, redis: aioredis.Redis, *subject_and_source: str) -> int:
        """Seconds the pair ``(subject, source)`` must still wait (0: it may try); counts nothing.

        A lockout counts failures, not calls: :meth:`failure` and :meth:`success` report them.
        """
        subject, source = subject_and_source
        _, lock, _ = self._pair_keys(subject, source)
        all_fails, known = self._subject_keys(subject)
        ttl = int(await _CHECK_PAIR(redis, (lock, all_fails, known), self.subject_ceiling, subject_key(source)))
        if ttl <= 0 and self.source_threshold:
            ttl = int(await redis.ttl(self._source_keys(source)[1]))
        return max(ttl, 0)

    async def check(self, redis: aioredis.Redis, subject: str, source: str) -> None:
        """Raise 429 (``locked-out``) while the pair or the source is locked, or past the subject's ceiling."""
        ttl = await self.acquire(redis, subject, source)
        if ttl > 0:
            raise self.locked(ttl)

    async def failure(self, redis: aioredis.Redis, subject: str, source: str) -> int:
        """Record a failure; returns the lock duration if this one locked the pair or the source."""
        fails, lock, level = self._pair_keys(subject, source)
        all_fails, _ = self._subject_keys(subject)
        keys = (fails, lock, level, all_fails)
        locked = int(await _FAIL_PAIR(redis, keys, self.window, self.threshold, self.base, self.cap, _CEILING_WINDOW))
        if self.source_threshold:
            source_keys = self._source_keys(source)
            args = (self.window, self.source_threshold, self.base, self.cap)
            locked = max(locked, int(await _FAIL_LOCK(redis, source_keys, *args)))
        return locked

    async def success(self, redis: aioredis.Redis, subject: str, source: str) -> None:
        fails, _, _ = self._pair_keys(subject, source)
        _, known = self._subject_keys(subject)
        await _SUCCEED(redis, (fails, known), subject_key(source), _KNOWN_SECONDS)


#: The lockout policies, in one place. Subjects are locked only together with a source.
LOCKOUTS = {
    # Password + OTP for a new device or recovery, per person (ID number).
    "password": Lockout(
        "password", threshold=5, window=900, base=300, cap=86400, source_threshold=20, subject_ceiling=50
    ),
    # One-time codes, per person or registration (a code itself dies after 5 wrong tries).
    "otp": Lockout("otp", threshold=5, window=900, base=300, cap=86400, source_threshold=20),
    # Device signatures that fail to verify, per device: nobody can guess a signature, so
    # this only bounds the work one source can cause; it never locks the device itself.
    "device": Lockout("device", threshold=10, window=300, base=60, cap=3600),
    # Officer passwords, per username (usernames are guessable; passwords are not shown).
    "officer": Lockout(
        "officer", threshold=5, window=900, base=300, cap=86400, source_threshold=20, subject_ceiling=50
    ),
    # OAuth2 client authentication, per client id. Secrets are 256 random bits and keys
    # cannot be guessed: a source is slowed, a client is never locked by anyone's guesses.
    "client": Lockout("client", threshold=10, window=300, base=60, cap=3600, source_threshold=30),
}
