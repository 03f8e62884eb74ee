"""What the notifications domain contributes: the inbox API and realtime feed, the outbox
consumer that turns other domains' events into notices, the per-channel delivery loops, and
the inbox retention loop."""

from notifications.cli import dev_sms
from notifications.consumer import CONSUMER_NAME
from notifications.deliveries import LOOPS
from notifications.realtime import RealtimePlugin
from notifications.retention import LOOP as RETENTION_LOOP
from notifications.routes import ROUTES
from wallet_api.domains import Domain

__all__ = ["CONSUMER_NAME", "DOMAIN"]

DOMAIN = Domain(
    name="notifications",
    routes=ROUTES,
    loops=[*LOOPS, RETENTION_LOOP],
    plugins=[RealtimePlugin()],
    commands=[dev_sms],
)
