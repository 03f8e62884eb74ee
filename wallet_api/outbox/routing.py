"""Which consumers an event of a topic is addressed to: read from the domains' declarations."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from wallet_api.domains import load_domains
from wallet_api.outbox.consumers import Consumer

__all__ = ["OutboxRoutes", "consumers_for", "declared_routes"]


class OutboxRoutes:
    """The consumers of each topic, from a set of consumers with distinct names."""

    def __init__(self, consumers: Iterable[Consumer]) -> None:
        self.consumers: dict[str, Consumer] = {}
        self._by_topic: dict[str, list[str]] = {}
        for consumer in consumers:
            if consumer.name in self.consumers:
                raise ValueError(f"two outbox consumers are named {consumer.name!r}")
            self.consumers[consumer.name] = consumer
            for topic in consumer.topics:
                self._by_topic.setdefault(topic, []).append(consumer.name)

    def consumers_for(self, topic: str) -> list[str]:
        """The names of the consumers that get a row for each event of ``topic``."""
        return list(self._by_topic.get(topic, ()))


@functools.cache
def declared_routes() -> OutboxRoutes:
    """The service's routes: every consumer that one of its domains declares."""
    return OutboxRoutes(consumer for domain in load_domains() for consumer in domain.consumers)


def consumers_for(topic: str) -> list[str]:
    """The consumers the service's domains declare for ``topic``."""
    return declared_routes().consumers_for(topic)
