"""Batching of concurrent calls (wallet_api/batching.py): who gets which result, and failures."""

from __future__ import annotations

import asyncio

import pytest

from wallet_api.batching import Batcher


class Recorder:
    """A batch function that keeps the batches it was given and fails on the item ``"bad"``."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, items: list[str]) -> list[str]:
        self.batches.append(items)
        self.started.set()
        await self.release.wait()
        if "bad" in items:
            raise ValueError("bad item")
        return [item.upper() for item in items]


async def test_calls_made_while_a_batch_is_in_flight_go_together_and_each_gets_its_own_result() -> None:
    run = Recorder()
    batcher: Batcher[str, str] = Batcher(run)
    run.release.clear()
    first = asyncio.create_task(batcher.submit("a"))
    await run.started.wait()  # the first batch is in flight, holding "a" alone
    rest = [asyncio.create_task(batcher.submit(x)) for x in ("b", "c", "d")]
    run.release.set()
    assert await first == "A"
    assert await asyncio.gather(*rest) == ["B", "C", "D"]
    assert run.batches == [["a"], ["b", "c", "d"]]


async def test_a_caller_that_goes_away_does_not_cancel_the_others_nor_its_own_item() -> None:
    run = Recorder()
    batcher: Batcher[str, str] = Batcher(run)
    run.release.clear()
    leaving = asyncio.create_task(batcher.submit("a"))
    staying = asyncio.create_task(batcher.submit("b"))
    await asyncio.sleep(0)
    leaving.cancel()
    run.release.set()
    assert await staying == "B"
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert run.batches == [["a", "b"]]


async def test_without_retry_every_caller_of_a_failed_batch_gets_the_error() -> None:
    batcher: Batcher[str, str] = Batcher(Recorder())
    outcomes = await asyncio.gather(*(batcher.submit(x) for x in ("a", "bad", "c")), return_exceptions=True)
    assert [type(o) for o in outcomes] == [ValueError] * 3


async def test_with_retry_singly_only_the_bad_item_fails() -> None:
    run = Recorder()
    batcher: Batcher[str, str] = Batcher(run, retry_singly=True)
    outcomes = await asyncio.gather(*(batcher.submit(x) for x in ("a", "bad", "c")), return_exceptions=True)
    assert outcomes[0] == "A" and isinstance(outcomes[1], ValueError) and outcomes[2] == "C"
    assert run.batches == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]
