"""A request body consumed on a worker thread while the event loop goes on receiving it.

The loop gathers the body's chunks (without copying them) into batches of `batch_bytes`; each full batch
goes to `consume` on a worker thread, in order, one at a time. While a batch is consumed the loop keeps
receiving the next one, so that receiving (TLS decryption on the loop) and consuming (parsing, hashing,
writing on the thread) overlap instead of taking turns: at most one batch is in flight and one gathered,
so the memory of a body stays within two batches (plus the server's own buffer).

A lane keeps one thread for the whole body, lent by `LANE_THREADS` and given back at its end: on the
loop's shared pool, successive batches of one body went to whichever idle thread woke first (in the
reference two threads took turns, each waking cold on a virtual machine), and a body's batches could
queue behind other work. The threads stay for the next bodies (as many as bodies ever received at once).
Measured by `load/bench_limit.py` (three runs of 19 rounds each way, issue 20): a 20 MB deposit in the
reference 61-64 → 52-59 ms (medians), the floor 46-47 → 43-44 ms.

Used by the reference's deposit route and by the benchmark's physical floor (`load/floor_server.py`), so
that both receive the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class LaneThreads:
    """Single-thread executors lent to lanes, one body at a time each (safe from several event loops)."""

    def __init__(self) -> None:
        self._idle: list[ThreadPoolExecutor] = []

    def lend(self) -> ThreadPoolExecutor:
        try:
            return self._idle.pop()
        except IndexError:
            return ThreadPoolExecutor(1, thread_name_prefix="lot")

    def give_back(self, thread: ThreadPoolExecutor) -> None:
        self._idle.append(thread)


LANE_THREADS = LaneThreads()


class BatchLane:
    """Chunks in, batches consumed on a thread in order; `close()` at the end, `abandon()` on failure."""

    def __init__(self, consume: Callable[[list[bytes]], None], batch_bytes: int) -> None:
        self._consume = consume
        self._batch_bytes = batch_bytes
        self._batch: list[bytes] = []
        self._gathered = 0
        self._in_flight: asyncio.Future[None] | None = None
        self._thread: ThreadPoolExecutor | None = None

    async def add(self, chunk: bytes) -> None:
        """Gather `chunk`; a full batch waits for the one in flight (and its error, if any), then starts."""
        self._batch.append(chunk)
        self._gathered += len(chunk)
        if self._gathered >= self._batch_bytes:
            await self._send()

    async def close(self) -> None:
        """Consume what is left and wait until every batch has been consumed."""
        try:
            await self._send()
            await self._wait()
        finally:
            self._give_back()

    async def abandon(self) -> None:
        """Wait for the batch in flight to end, whatever it raises (the caller is already failing)."""
        try:
            with contextlib.suppress(Exception):
                await self._wait()
        finally:
            self._give_back()

    async def _send(self) -> None:
        await self._wait()
        batch, self._batch, self._gathered = self._batch, [], 0
        if batch:
            self._thread = self._thread or LANE_THREADS.lend()
            self._in_flight = asyncio.get_running_loop().run_in_executor(self._thread, self._consume, batch)

    def _give_back(self) -> None:
        """The lane's thread goes back to `LANE_THREADS` once nothing is in flight on it."""
        if self._thread is not None and self._in_flight is None:
            LANE_THREADS.give_back(self._thread)
            self._thread = None

    async def _wait(self) -> None:
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            await in_flight
