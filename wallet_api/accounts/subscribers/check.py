"""The SIM owner check as the flows use it: registration, phone change, device recovery."""

from __future__ import annotations

from wallet_api.accounts.subscribers.base import SubscriberRegistry, SubscriberRegistryUnavailable
from wallet_api.kernel import Problem

__all__ = ["phone_owned_by"]


async def phone_owned_by(subscribers: SubscriberRegistry, phone: str, person_id: str) -> bool:
    """Is ``phone`` (already normalised to E.164 by ``accounts.common.normalise_phone``)
    registered to ``person_id`` at the carriers (``subscribers``: the process's, ``services.subscribers``)?

    For the recovery-from-squatting flow (``proofing/``): call it with the phone the
    proven person asks to use, and refuse the rebinding if it is False. Call it on every
    path, before deciding, so that the answer costs the same whatever the details; never
    tell the caller *why* a phone was refused (a squatter could otherwise test numbers
    until they find the owner's). Raises the 503 problem ``subscriber-registry-unavailable``
    if the carriers' database does not answer.
    """
    try:
        return await subscribers.is_registered_to(phone, person_id)
    except SubscriberRegistryUnavailable as exc:
        raise Problem(
            "The mobile subscriber database is not answering; try again in a few minutes.",
            slug="subscriber-registry-unavailable",
            title="Subscriber database unavailable",
            status=503,
        ) from exc
