"""What the notifications domain contributes: the inbox API and realtime feed, the channel
addresses API, the outbox consumer that turns other domains' events into notices, one
delivery loop per channel, the inbox retention loop, and the channels' development commands."""

from notifications.address_routes import ROUTES as ADDRESS_ROUTES
from notifications.channels import PLUGINS
from notifications.consumer import CONSUMER, CONSUMER_NAME
from notifications.deliveries import LOOPS
from notifications.realtime import RealtimePlugin
from notifications.retention import LOOP as RETENTION_LOOP
from notifications.routes import ROUTES
from notifications.services import CHANNELS, SMS
from wallet_api.kernel import Domain

__all__ = ["CONSUMER_NAME", "DOMAIN"]

DOMAIN = Domain(
    name="notifications",
    routes=[*ROUTES, *ADDRESS_ROUTES],
    consumers=[CONSUMER],
    services=[CHANNELS, SMS],
    loops=[*LOOPS, RETENTION_LOOP],
    plugins=[RealtimePlugin()],
    commands=[command for plugin in PLUGINS.values() for command in plugin.commands],
)
