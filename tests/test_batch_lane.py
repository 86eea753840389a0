"""The batch lane of a request body: batches consumed in order on a thread, one in flight at most."""

from __future__ import annotations

import threading

import pytest

from harness.foundations.batch_lane import BatchLane


class Consumer:
    """Records each batch it consumes, and how many consumptions ever ran at once."""

    def __init__(self, fail_on: bytes | None = None) -> None:
        self.batches: list[list[bytes]] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()
        self._fail_on = fail_on

    def __call__(self, batch: list[bytes]) -> None:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        threading.Event().wait(0.01)
        with self._lock:
            self.running -= 1
        if self._fail_on in batch:
            raise ValueError("corps mal formé")
        self.batches.append(batch)


@pytest.mark.anyio
async def test_batches_are_consumed_in_order_one_at_a_time() -> None:
    consumer = Consumer()
    lane = BatchLane(consumer, batch_bytes=4)
    for chunk in (b"ab", b"cd", b"ef", b"gh", b"i"):
        await lane.add(chunk)
    await lane.close()
    assert consumer.batches == [[b"ab", b"cd"], [b"ef", b"gh"], [b"i"]]
    assert consumer.most_at_once == 1


@pytest.mark.anyio
async def test_a_failed_batch_is_raised_by_the_next_full_one() -> None:
    consumer = Consumer(fail_on=b"xx")
    lane = BatchLane(consumer, batch_bytes=2)
    await lane.add(b"xx")  # in flight, will fail
    with pytest.raises(ValueError, match="mal formé"):
        await lane.add(b"yy")  # waits for the batch in flight before it starts
    assert consumer.batches == []


@pytest.mark.anyio
async def test_abandon_waits_for_the_batch_in_flight_and_swallows_its_error() -> None:
    consumer = Consumer(fail_on=b"xx")
    lane = BatchLane(consumer, batch_bytes=2)
    await lane.add(b"xx")
    await lane.abandon()
    assert consumer.running == 0
    assert consumer.most_at_once == 1


@pytest.mark.anyio
async def test_a_body_keeps_one_thread_and_two_bodies_at_once_have_two() -> None:
    threads: dict[str, set[int]] = {"a": set(), "b": set()}

    def on(body: str) -> BatchLane:
        return BatchLane(lambda batch: threads[body].add(threading.get_ident()), batch_bytes=1)

    first, second = on("a"), on("b")
    for chunk in (b"1", b"2", b"3", b"4"):  # interleaved: both lanes hold a thread at once
        await first.add(chunk)
        await second.add(chunk)
    await first.close()
    await second.close()
    assert len(threads["a"]) == len(threads["b"]) == 1
    assert threads["a"] != threads["b"]


@pytest.mark.anyio
async def test_a_thread_given_back_serves_the_next_body() -> None:
    used: list[int] = []
    for _ in range(2):
        lane = BatchLane(lambda batch: used.append(threading.get_ident()), batch_bytes=1)
        await lane.add(b"x")
        await lane.close()
    assert used[0] == used[1]
