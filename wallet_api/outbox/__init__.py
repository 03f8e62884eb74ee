"""Transactional outbox: domains publish events inside their own transaction; workers consume.

Delivery is at-least-once: a worker that dies after acting but before recording the
result leaves the row to be claimed again when its lease ends, so every consumer must be
idempotent (keyed on the event id or on a natural key).
"""

from wallet_api.outbox.consumers import Consumer, EventFailure, OutboxEvent, consumers_for, register
from wallet_api.outbox.publish import insert_events, publish, publish_many

__all__ = [
    "Consumer",
    "EventFailure",
    "OutboxEvent",
    "consumers_for",
    "insert_events",
    "publish",
    "publish_many",
    "register",
]
