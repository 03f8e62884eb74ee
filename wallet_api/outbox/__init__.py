"""Transactional outbox: domains publish events inside their own transaction; workers consume.

Delivery is at-least-once: a worker that dies after acting but before recording the
result leaves the row to be claimed again when its lease ends, so every consumer must be
idempotent (keyed on the event id or on a natural key). A domain declares its consumers
in its ``Domain``; an event goes to the consumers declared for its topic.
"""

from wallet_api.outbox.consumers import Consumer, EventFailure, OutboxEvent
from wallet_api.outbox.publish import insert_events, publish, publish_many
from wallet_api.outbox.routing import OutboxRoutes, consumers_for, declared_routes

__all__ = [
    "Consumer",
    "EventFailure",
    "OutboxEvent",
    "OutboxRoutes",
    "consumers_for",
    "declared_routes",
    "insert_events",
    "publish",
    "publish_many",
]
