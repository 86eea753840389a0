"""A request body consumed on a worker thread while the event loop goes on receiving it.

The loop gathers the body's chunks (without copying them) into batches of `batch_bytes`; each full batch
goes to `consume` on a worker thread, in order, one at a time. While a batch is consumed the loop keeps
receiving the next one, so that receiving (TLS decryption on the loop) and consuming (parsing, hashing,
writing on the thread) overlap instead of taking turns: at most one batch is in flight and one gathered,
so the memory of a body stays within two batches (plus the server's own buffer).

Used by the reference's deposit route and by the benchmark's physical floor (`load/floor_server.py`), so
that both receive the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class BatchLane:
    """Chunks in, batches consumed on a thread in order; `close()` at the end, `abandon()` on failure."""

    def __init__(self, consume: Callable[[list[bytes]], None], batch_bytes: int) -> None:
        self._consume = consume
        self._batch_bytes = batch_bytes
        self._batch: list[bytes] = []
        self._gathered = 0
        self._in_flight: asyncio.Future[None] | None = None

    async def add(self, chunk: bytes) -> None:
        """Gather `chunk`; a full batch waits for the one in flight (and its error, if any), then starts."""
        self._batch.append(chunk)
        self._gathered += len(chunk)
        if self._gathered >= self._batch_bytes:
            await self._send()

    async def close(self) -> None:
        """Consume what is left and wait until every batch has been consumed."""
        await self._send()
        await self._wait()

    async def abandon(self) -> None:
        """Wait for the batch in flight to end, whatever it raises (the caller is already failing)."""
        with contextlib.suppress(Exception):
            await self._wait()

    async def _send(self) -> None:
        await self._wait()
        batch, self._batch, self._gathered = self._batch, [], 0
        if batch:
            self._in_flight = asyncio.get_running_loop().run_in_executor(None, self._consume, batch)

    async def _wait(self) -> None:
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            await in_flight
