"""Notifications: the citizen's inbox, realtime delivery to the open app, and the channels
that reach citizens outside it (push, SMS, e-mail: one folder each under ``channels/``).

Other domains tell citizens things by publishing outbox events (see ``events.TOPICS``);
for transient realtime state they may call :func:`publish_realtime` directly.
"""

from notifications.realtime import publish_realtime

__all__ = ["publish_realtime"]
