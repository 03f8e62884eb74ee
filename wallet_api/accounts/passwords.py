"""Passwords: argon2id (RFC 9106 second recommended profile), used only for rare actions.

A citizen's password is checked when binding a new device or recovering an account, never
on everyday sign-in (a device signature is), so its cost does not limit sign-in throughput.
Hashing runs in a thread so a slow hash does not stall the event loop.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MIN_PASSWORD_LENGTH", "hash_password", "verify_password"]

MIN_PASSWORD_LENGTH = 8

_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
# A real hash to verify against when there is no account, so that "no such account" and
# "wrong password" take the same time.
_DUMMY = _HASHER.hash("not-a-real-password-for-timing")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """True if ``password`` matches ``stored``; with ``stored=None`` it still spends the time."""
    return await asyncio.to_thread(_verify, stored, password)
