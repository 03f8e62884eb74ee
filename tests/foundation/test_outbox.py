"""The transactional outbox: atomic publish, exclusive claims, leases, retries, dead letters."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import Any

import asyncpg
import pytest

from wallet_api.outbox import Consumer, EventFailure, OutboxEvent, OutboxRoutes, publish, publish_many
from wallet_api.outbox.dispatch import claim, run_consumer_once

SEEN: Counter[int] = Counter()
FAIL_KEYS: set[str] = set()


async def _record(events: list[OutboxEvent], ctx: Any) -> Mapping[int, EventFailure] | None:
    await asyncio.sleep(0.01)  # hold the claim long enough for other workers to race for it
    for event in events:
        SEEN[event.id] += 1
    return {e.id: EventFailure("refused by test") for e in events if e.key in FAIL_KEYS}


async def _explode(events: list[OutboxEvent], ctx: Any) -> None:
    raise RuntimeError("consumer down")


RECORDER = Consumer(name="test-recorder", topics=("test.thing",), handle=_record, batch_size=20)
SECOND = Consumer(name="test-second", topics=("test.thing",), handle=_record, batch_size=20)
EXPLODER = Consumer(name="test-exploder", topics=("test.boom",), handle=_explode, max_attempts=3, backoff_base=0.0)
#: These tests' own consumers, as a domain would declare them.
ROUTES = OutboxRoutes([RECORDER, SECOND, EXPLODER])


@pytest.fixture(autouse=True)
def _reset() -> None:
    SEEN.clear()
    FAIL_KEYS.clear()


async def drain(db: asyncpg.Pool, consumer: Consumer, owner: str = "w1", lease: float = 30) -> int:
    total = 0
    while n := await run_consumer_once(db, consumer, None, owner=owner, lease=lease, max_attempts=5):
        total += n
    return total


async def test_publish_fans_out_one_row_per_consumer(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn, conn.transaction():
        assert await publish(conn, "test.thing", {"n": 1}, key="a", routes=ROUTES) == 2
    consumers = {r["consumer"] for r in await db.fetch("SELECT consumer FROM outbox")}
    assert consumers == {"test-recorder", "test-second"}


async def test_events_roll_back_with_the_change(db: asyncpg.Pool) -> None:
    async def change_that_fails() -> None:
        async with db.acquire() as conn, conn.transaction():
            await publish(conn, "test.thing", {"n": 1}, routes=ROUTES)
            raise RuntimeError("the domain change failed")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_topic_without_consumers_writes_nothing(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        assert await publish(conn, "test.nobody-listens", {"n": 1}, routes=ROUTES) == 0


async def test_publish_many_and_drain(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await publish_many(conn, "test.thing", [(str(i), {"i": i}) for i in range(50)], routes=ROUTES)
    assert await drain(db, RECORDER) == 50
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE consumer = 'test-recorder' AND state = 'done'") == 50
    # The other consumer's rows are untouched: consumers are independent.
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE consumer = 'test-second' AND state = 'pending'") == 50


async def test_concurrent_workers_never_process_an_event_twice(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await publish_many(conn, "test.thing", [(str(i), {"i": i}) for i in range(400)], routes=ROUTES)
    await asyncio.gather(*(drain(db, RECORDER, owner=f"w{i}") for i in range(6)))
    ids = [r["id"] for r in await db.fetch("SELECT id FROM outbox WHERE consumer = 'test-recorder'")]
    assert len(ids) == 400
    assert all(SEEN[i] == 1 for i in ids)
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE consumer='test-recorder' AND state <> 'done'") == 0


async def test_a_dead_workers_lease_expires_and_another_takes_over(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await publish(conn, "test.thing", {"n": 1}, key="x", routes=ROUTES)
    crashed = await claim(db, RECORDER, "crashed-worker", lease=0.2)
    assert len(crashed) == 1
    # While the lease runs, nobody else can take it.
    assert await claim(db, RECORDER, "other", lease=30) == []
    await asyncio.sleep(0.3)
    assert await drain(db, RECORDER, owner="other") == 1
    row = await db.fetchrow("SELECT state, attempts FROM outbox WHERE consumer = 'test-recorder'")
    assert row["state"] == "done"
    assert row["attempts"] == 2


async def test_a_late_worker_cannot_overwrite_the_new_owners_outcome(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await publish(conn, "test.thing", {"n": 1}, key="x", routes=ROUTES)
    [event] = await claim(db, RECORDER, "slow", lease=0.1)
    await asyncio.sleep(0.2)
    [again] = await claim(db, RECORDER, "fast", lease=30)
    assert again.id == event.id
    # "slow" finishes late and tries to mark it done: fenced out by the owner check.
    from wallet_api.outbox.dispatch import _DONE

    await db.execute(_DONE, [event.id], "slow")
    assert await db.fetchval("SELECT lease_owner FROM outbox WHERE id = $1", event.id) == "fast"


async def test_failures_retry_with_backoff_then_dead_letter(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await publish(conn, "test.boom", {"n": 1}, routes=ROUTES)
    for _ in range(3):
        assert await run_consumer_once(db, EXPLODER, None, owner="w", lease=30, max_attempts=5) == 1
    row = await db.fetchrow("SELECT state, attempts, last_error FROM outbox WHERE consumer = 'test-exploder'")
    assert row["state"] == "dead"
    assert row["attempts"] == 3
    assert row["last_error"] == "RuntimeError"


async def test_per_event_failures_leave_the_rest_of_the_batch_done(db: asyncpg.Pool) -> None:
    FAIL_KEYS.add("bad")
    async with db.acquire() as conn:
        await publish_many(conn, "test.thing", [("good", {}), ("bad", {}), ("good2", {})], routes=ROUTES)
    await run_consumer_once(db, RECORDER, None, owner="w", lease=30, max_attempts=5)
    rows = {
        r["key"]: (r["state"], r["available_at"] > r["created_at"])
        for r in await db.fetch(
            "SELECT key, state, available_at, created_at FROM outbox WHERE consumer='test-recorder'"
        )
    }
    assert rows["good"][0] == rows["good2"][0] == "done"
    assert rows["bad"] == ("pending", True)  # rescheduled later, not immediately


def test_backoff_grows_and_is_capped() -> None:
    c = Consumer(name="x", topics=(), handle=_record, backoff_base=1.0, backoff_cap=60.0)
    assert [c.backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert c.backoff(30) == 60.0


async def test_janitor_purges_old_finished_rows_only(db: asyncpg.Pool, settings: Any) -> None:
    from tests.support.workers import worker_context
    from wallet_api.janitor import JANITOR

    async with db.acquire() as conn:
        await publish_many(conn, "test.thing", [("old", {}), ("new", {})], routes=ROUTES)
    await drain(db, RECORDER)
    await db.execute("UPDATE outbox SET finished_at = now() - interval '8 days' WHERE key = 'old' AND state = 'done'")
    ctx = worker_context(settings, db, None, None, worker_id="t")  # type: ignore[arg-type]
    assert await JANITOR.run_once(ctx) == 1
    # The old finished row is gone; the other consumer's pending copy of the same event stays.
    assert [r["state"] for r in await db.fetch("SELECT state FROM outbox WHERE key = 'old'")] == ["pending"]
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE key = 'new'") == 2
