"""Outbox consumers: which handler receives which topics (declared by their domains)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wallet_api.worker_context import WorkerContext

__all__ = ["Consumer", "EventFailure", "OutboxEvent"]


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    id: int
    topic: str
    key: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventFailure:
    """A per-event failure returned by a batch handler; the others in the batch succeed."""

    error: str
    #: Seconds before the next attempt; None means the consumer's backoff schedule.
    retry_in: float | None = None
    #: True sends the event straight to the dead letters (the input can never succeed).
    permanent: bool = False


#: A handler receives a batch and returns failures by event id (empty or None: all done).
#: Raising fails the whole batch.
Handler = Callable[["list[OutboxEvent]", "WorkerContext"], Awaitable[Mapping[int, EventFailure] | None]]


@dataclass(frozen=True)
class Consumer:
    name: str
    topics: tuple[str, ...]
    handle: Handler
    batch_size: int = 100
    max_attempts: int | None = None
    #: Backoff base in seconds: attempt n waits base * 2**(n-1), capped at backoff_cap.
    backoff_base: float = 1.0
    backoff_cap: float = 600.0
    lease_seconds: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def backoff(self, attempts: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * (2 ** max(0, attempts - 1))))
