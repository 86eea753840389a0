"""The durable outbox of returns: every return stored by the worker is sent exactly once.

A return row stays `pending` until the ASP acknowledges it, so a crash at any point only causes a new
delivery of the *same* return (same idRetour), which the ASP's API treats as idempotent. When the retry
budget is spent, the deposit fails and an incident is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from harness.reference.callback_client import CallbackClient, DeliveryFailed
from harness.reference.faults.base import Fault, FaultSet, Json
from harness.reference.incidents import Incidents
from harness.reference.store import ReturnRecord, Store

log = logging.getLogger(__name__)
MAX_PARALLEL_DELIVERIES = 8


class Outbox:
    """Sends pending returns, a few at a time, whenever woken or every `poll_seconds`."""

    def __init__(
        self,
        store: Store,
        client: CallbackClient,
        incidents: Incidents,
        clock: Callable[[], datetime],
        poll_seconds: float,
        faults: FaultSet,
    ) -> None:
        self._store = store
        self._client = client
        self._incidents = incidents
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._faults = faults
        self._wake = asyncio.Event()
        self._in_flight: set[str] = set()
        self._slots = asyncio.Semaphore(MAX_PARALLEL_DELIVERIES)
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            for record in self._store.pending_returns():
                if record.deposit_id not in self._in_flight:
                    self._start(record)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()

    def _start(self, record: ReturnRecord) -> None:
        self._in_flight.add(record.deposit_id)
        task = asyncio.create_task(self._deliver(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, record: ReturnRecord) -> None:
        try:
            async with self._slots:
                await self._send(record)
        except Exception:
            log.exception("delivery of the return of %s stopped unexpectedly", record.deposit_id)
        finally:
            self._in_flight.discard(record.deposit_id)

    async def _send(self, record: ReturnRecord) -> None:
        if record.payload is None:
            return
        payload = self._faults.apply(Fault.outgoing, record.payload, redelivery=record.ack_id is not None)
        await asyncio.sleep(self._faults.apply(Fault.delivery_delay, 0.0))
        await self._send_extra(self._faults.gather(Fault.before_delivery, payload))
        try:
            delivery = await self._client.deliver(payload)
        except DeliveryFailed as failure:
            self._store.record_failure(record.deposit_id, failure.attempts, self._clock(), failure.reason)
            await self._incidents.open(
                record.deposit_id,
                f"retour non remis pour le dépôt {record.deposit_id}",
                f"Le retour {record.return_id} n'a pas pu être remis à l'API de retour de l'ASP "
                f"après {failure.attempts} tentative(s).\nDernière erreur : {failure.reason}",
            )
            return
        self._store.record_delivery(
            record.deposit_id,
            delivery.attempts,
            delivery.ack_id,
            self._clock(),
            f"retour {record.return_id} remis en {delivery.attempts} tentative(s)",
        )
        await self._send_extra(self._faults.gather(Fault.after_delivery, payload))

    async def _send_extra(self, payloads: list[Json]) -> None:
        """Returns sent by armed faults besides the deposit's own (whatever the ASP answers them)."""
        for payload in payloads:
            with contextlib.suppress(DeliveryFailed):
                await self._client.deliver(payload)
