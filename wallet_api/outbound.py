"""Sending to a citizen outside the app: the one error tree every sender raises, and the SMS
sender interface that accounts and proofing text one-time codes through.

Errors (``reason`` is always safe to log: a status and the platform's error code, never a
phone number, token, address or message text)::

    SendFailed              the message was not handed over
    ├── SendUnavailable     transient (timeout, refused connection, 5xx, 429): try again
    │                       later, not before ``retry_after`` seconds when the service said so
    ├── SendRejected        refused as sent (a 4xx other than the ones below): the same
    │                       request will never succeed, so it is recorded and not retried
    └── RecipientGone       the destination no longer exists (a push token unregistered, a
                            mailbox unknown, a number out of service): stop sending there

The SMS sender's adapters (the HTTP gateway and the development box) live with the SMS
notification channel (``notifications/channels/sms``); a process's composition hands one
sender to everyone who texts.
"""

from __future__ import annotations

from typing import Protocol

from wallet_api.services import ServiceFactory, provided_by_a_domain

__all__ = ["SMS_SENDER", "RecipientGone", "SendFailed", "SendRejected", "SendUnavailable", "SmsSender"]


class SendFailed(Exception):
    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class SendUnavailable(SendFailed):
    """The service could not take the message now; try again later."""


class SendRejected(SendFailed):
    """The service refused this message for good (bad request or configuration)."""


class RecipientGone(SendFailed):
    """The destination no longer exists; sending there again is pointless."""


class SmsSender(Protocol):
    async def send(self, phone: str, text: str, *, reference: str) -> None:
        """Text ``phone`` (E.164 or national format); ``reference`` makes a resend idempotent.
        Raises a :class:`SendFailed` when the text was not handed to the carrier."""
        ...


#: The process's one SMS sender: ``services.get(SMS_SENDER)``. The SMS channel's domain
#: provides it (``SMS_SENDER.provided_by(...)`` in its ``Domain.services``).
SMS_SENDER: ServiceFactory[SmsSender] = ServiceFactory("sms-sender", provided_by_a_domain)
