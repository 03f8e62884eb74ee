"""Batching of concurrent calls: what many requests ask at the same moment goes in one round trip.

A request hands its item to a :class:`Batcher` and waits for its own result. While a
batch is in flight, the items that arrive meanwhile queue up and go together in the next
one. At low load a batch carries one item and adds no delay; under load batches grow by
themselves, and the fixed cost of a round trip (the client library's Python, the server's
per-statement or per-command work, a commit) is paid once per batch instead of once per
request. The access log's group commit and the verification route's Redis burns and
PostgreSQL reads all work this way.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import asyncpg

__all__ = ["Batcher", "Batchers", "fetch_per_item"]

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """Runs ``run(items)`` for the items submitted meanwhile; ``run`` returns one result per item.

    If a batch fails and ``retry_singly`` is set, its items are run again one by one, so
    that one bad item fails only its own caller; set it only when running an item twice
    is harmless (a read, or a write whose failed transaction left nothing behind).
    Otherwise every caller of the batch gets the error.
    """

    def __init__(
        self, run: Callable[[list[T]], Awaitable[Sequence[R]]], *, max_batch: int = 500, retry_singly: bool = False
    ) -> None:
        self._run = run
        self._max_batch = max_batch
        self._retry_singly = retry_singly
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        # Not shielded, and need not be: a caller that goes away cancels only its own future,
        # which the drainer then skips; its item still goes in the batch with the others.
        return await future

    async def drain(self) -> None:
        """Wait for the batches in flight and those queued behind them (at shutdown)."""
        while self._drainer is not None and not self._drainer.done():
            await asyncio.wait({self._drainer})

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            try:
                results = await self._run([item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"a batch of {len(batch)} items gave {len(results)} results")
            except Exception as exc:
                if self._retry_singly and len(batch) > 1:
                    await self._one_by_one(batch)
                else:
                    _fail(batch, exc)
            except BaseException:
                _fail(batch, RuntimeError("the batch was cancelled"))
                raise
            else:
                _settle(batch, results)

    async def _one_by_one(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        for item, future in batch:
            try:
                results = await self._run([item])
            except Exception as exc:
                _fail([(item, future)], exc)
            else:
                _settle([(item, future)], results)


def _settle(batch: list[tuple[T, asyncio.Future[R]]], results: Sequence[R]) -> None:
    for (_, future), result in zip(batch, results, strict=True):
        if not future.done():
            future.set_result(result)


def _fail(batch: list[tuple[T, asyncio.Future[R]]], exc: BaseException) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)


class Batchers:
    """A process's batchers by name, made on first use and drained when the process stops.

    Owned by the process's :class:`~wallet_api.services.Services`: one batcher per name
    per process, and no batch left half-run when its pool or client closes.
    """

    def __init__(self) -> None:
        self._made: dict[str, Batcher[Any, Any]] = {}

    def get(self, name: str, make: Callable[[], Batcher[T, R]]) -> Batcher[T, R]:
        """The batcher called ``name``, made by ``make`` the first time it is asked for."""
        batcher = self._made.get(name)
        if batcher is None:
            batcher = self._made[name] = make()
        return batcher

    def row_reader(self, pool: asyncpg.Pool, sql: str) -> Batcher[tuple[Any, ...], asyncpg.Record | None]:
        """The batched reader of ``sql`` on ``pool``: one query for the items asked at once.

        ``sql`` takes one array per member of an item (``unnest($1::uuid[], ...) WITH ORDINALITY
        AS r(..., n)``) and returns at most one row per item with its number ``n``; an item
        without a row gets None. A failed batch is retried item by item (a read may run twice),
        so a bad item fails alone.
        """
        return self.get(sql, lambda: Batcher(functools.partial(fetch_per_item, pool, sql), retry_singly=True))

    async def drain(self) -> None:
        """Wait until every batch submitted so far has run and its callers have their results."""
        for batcher in list(self._made.values()):
            await batcher.drain()


async def fetch_per_item(
    pool: asyncpg.Pool, sql: str, items: list[tuple[Any, ...]], leading: tuple[Any, ...] = ()
) -> list[asyncpg.Record | None]:
    """Run ``sql`` for a batch: ``leading`` arguments, then one array per member of an item.

    ``sql`` returns at most one row per item with the item's number ``n`` (from 1, as
    ``WITH ORDINALITY`` counts); the result is each item's row, or None where it has none.
    """
    found: list[asyncpg.Record | None] = [None] * len(items)
    for row in await pool.fetch(sql, *leading, *zip(*items, strict=True)):
        found[row["n"] - 1] = row
    return found
