"""The notifications services of one process: its channels, built once and closed once.

Both are declared in the notifications ``Domain`` and built from the process's
:class:`~wallet_api.services.Services` on first use: the channels (:data:`CHANNELS`) and,
from the SMS channel, the SMS sender that accounts text one-time codes through
(:data:`SMS`, the kernel's ``SMS_SENDER``).
"""

from __future__ import annotations

from notifications.channels import build_channels
from notifications.channels.sms import SmsChannel
from wallet_api.kernel import SMS_SENDER, ServiceFactory, Services, SmsSender

__all__ = ["CHANNELS", "SMS"]

#: Every channel of the process, closed with it.
CHANNELS = ServiceFactory(
    "notification-channels", lambda services: build_channels(services.settings, services.http, services.redis)
)


def _sms_sender(services: Services) -> SmsSender:
    sms = services.get(CHANNELS)["sms"]
    assert isinstance(sms, SmsChannel)
    return sms.sender


#: The SMS channel's sender, as the kernel's SMS sender.
SMS = SMS_SENDER.provided_by(_sms_sender)
