"""The one question we ask the carriers' subscriber database."""

from __future__ import annotations

from typing import Protocol

__all__ = ["SubscriberRegistry", "SubscriberRegistryUnavailable"]


class SubscriberRegistryUnavailable(Exception):
    """The subscriber database did not answer; the caller should ask the citizen to try again later."""


class SubscriberRegistry(Protocol):
    async def is_registered_to(self, phone: str, person_id: str) -> bool:
        """True if the mobile number (E.164, ``+84…``) is registered to this 12-digit ID number.

        False for a number registered to someone else and for a number nobody registered:
        the answer never tells the two apart.
        """
        ...
