"""The durable outbox of returns: at least once delivery of one frozen return, to an idempotent receiver.

The worker stores each deposit's single return once (frozen: same idRetour, same content ever after). A
return row stays `pending` until the ASP acknowledges it, so a crash at any point only causes a new
delivery of that *same* return, which the ASP acknowledges as a redelivery: the ASP sees one return per
deposit, possibly received more than once, on its channel (`return_channels.py`: the callback API, or a
return archive). Rows are leased to one delivery at a time, a bounded batch
per poll; a retransmission asked by the ASP bumps the row's generation, and a delivery settles the row only
if its generation is still the one it sent, so no retransmission is lost. When the retry budget (in time)
is spent, the deposit fails (ECHEC) and one incident is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from harness.reference.callback_client import DeliveryFailed
from harness.reference.faults.base import Fault, FaultSet, Json
from harness.reference.incidents import Incidents
from harness.reference.return_channels import ReturnChannel
from harness.reference.store import ReturnRecord, Store

log = logging.getLogger(__name__)
MAX_PARALLEL_DELIVERIES = 8


class Outbox:
    """Sends pending returns, a few at a time, whenever woken or every `poll_seconds`."""

    def __init__(
        self,
        store: Store,
        client: ReturnChannel,
        incidents: Incidents,
        clock: Callable[[], datetime],
        poll_seconds: float,
        lease_seconds: float,
        faults: FaultSet,
        return_delay: timedelta = timedelta(),
    ) -> None:
        self._store = store
        self._client = client
        self._incidents = incidents
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._lease_seconds = lease_seconds
        self._faults = faults
        self._return_delay = return_delay
        self._wake = asyncio.Event()
        self._in_flight: set[str] = set()
        self._slots = asyncio.Semaphore(MAX_PARALLEL_DELIVERIES)
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        await self._recover()
        while True:
            free = MAX_PARALLEL_DELIVERIES - len(self._in_flight)
            due = await self._store.run(self._store.lease_due_returns, self._clock(), self._lease_seconds, free)
            for record in due:
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

    async def _recover(self) -> None:
        """Start-up: release the leases of a crashed process; finish the failures it left half reported."""
        await self._store.run(self._store.release_leases)
        for deposit_id in await self._store.run(self._store.failures_not_reported):
            self._start_task(self._finish_failure(deposit_id))

    def _start(self, record: ReturnRecord) -> None:
        self._in_flight.add(record.deposit_id)
        self._start_task(self._deliver(record))

    def _start_task(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, record: ReturnRecord) -> None:
        try:
            if record.ack_id is None:
                await self._hold(record.deposit_id)
            async with self._slots:
                await self._send(record)
        except Exception as error:
            log.exception("delivery of the return of %s stopped unexpectedly", record.deposit_id)
            reason = f"retour impossible à envoyer ({type(error).__name__})"
            await self._fail(record, 0, reason, f"Le retour {record.return_id} ne peut pas être envoyé : {reason}.")
        finally:
            self._in_flight.discard(record.deposit_id)
            self.wake()  # a retransmission asked during the delivery is due at once

    async def _hold(self, deposit_id: str) -> None:
        """Wait until `return_delay` after the deposit's receipt, on the reference's clock (moving it forward
        shortens the wait), holding no delivery slot: every delayed return leaves on time."""
        if not self._return_delay:
            return
        deposit = await self._store.run(self._store.deposit, deposit_id)
        due = (deposit.received_at if deposit else self._clock()) + self._return_delay
        while True:  # the clock is read again after each nap: it may have been moved
            left = (due - self._clock()).total_seconds()
            if left <= 0:
                return
            await asyncio.sleep(min(left, self._poll_seconds))

    async def _send(self, record: ReturnRecord) -> None:
        if record.payload is None:
            return
        payload = self._faults.apply(Fault.outgoing, record.payload, redelivery=record.ack_id is not None)
        await asyncio.sleep(self._faults.apply(Fault.delivery_delay, 0.0))
        await self._send_extra(self._faults.gather(Fault.before_delivery, payload))
        try:
            delivery = await self._client.deliver(payload)
        except DeliveryFailed as failure:
            await self._fail(
                record,
                failure.attempts,
                failure.reason,
                f"Le retour {record.return_id} n'a pas pu être remis à l'API de retour de l'ASP "
                f"après {failure.attempts} tentative(s).\nDernière erreur : {failure.reason}",
            )
            return
        await self._store.run(
            self._store.record_delivery,
            record,
            delivery.attempts,
            delivery.ack_id,
            self._clock(),
            f"retour {record.return_id} remis en {delivery.attempts} tentative(s)",
        )
        await self._send_extra(self._faults.gather(Fault.after_delivery, payload))

    async def _fail(self, record: ReturnRecord, attempts: int, reason: str, detail: str) -> None:
        """The budget is spent: the return fails (unless a retransmission came meanwhile), one incident is
        opened (recorded, then mailed), then the deposit shows ECHEC: once it does, the ASP has been told."""
        if await self._store.run(self._store.record_failure, record, attempts):
            await self._incidents.open(record.deposit_id, _summary(record.deposit_id), detail)
            await self._store.run(self._store.set_status, record.deposit_id, "ECHEC", self._clock(), reason)

    async def _finish_failure(self, deposit_id: str) -> None:
        """A failure a crash caught before ECHEC: its incident if it was not recorded yet, then ECHEC."""
        reason = "retour non remis (reprise après arrêt)"
        if not await self._store.run(self._store.has_incident, deposit_id):
            await self._incidents.open(deposit_id, _summary(deposit_id), f"Le retour du dépôt {deposit_id} : {reason}.")
        await self._store.run(self._store.set_status, deposit_id, "ECHEC", self._clock(), reason)

    async def _send_extra(self, payloads: list[Json]) -> None:
        """Returns sent by armed faults besides the deposit's own (whatever the ASP answers them)."""
        for payload in payloads:
            with contextlib.suppress(DeliveryFailed):
                await self._client.deliver(payload)


def _summary(deposit_id: str) -> str:
    return f"retour non remis pour le dépôt {deposit_id}"
