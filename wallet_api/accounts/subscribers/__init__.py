"""The carriers' subscriber database (SIM owner check), behind one small interface.

Vietnamese carriers must register every mobile number to its owner's personal ID number
(thuê bao "chính chủ"). We ask one question of that database: *is this number registered
to this person?* — never who owns a number. :class:`HttpSubscriberRegistry` asks a real
one; :class:`LocalSubscriberRegistry` reads the ``mobile_subscribers`` table that
``wallet seed`` fills for development and tests. :func:`subscriber_registry` picks one
from the settings; :func:`phone_owned_by` is the check the flows call.
"""

from wallet_api.accounts.subscribers.base import SubscriberRegistry, SubscriberRegistryUnavailable
from wallet_api.accounts.subscribers.check import phone_owned_by
from wallet_api.accounts.subscribers.http import HttpSubscriberRegistry
from wallet_api.accounts.subscribers.local import LocalSubscriberRegistry
from wallet_api.accounts.subscribers.select import subscriber_registry

__all__ = [
    "HttpSubscriberRegistry",
    "LocalSubscriberRegistry",
    "SubscriberRegistry",
    "SubscriberRegistryUnavailable",
    "phone_owned_by",
    "subscriber_registry",
]
