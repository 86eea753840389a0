"""The return-archive channel (canal archive de retour): an archive's one return as `sortant/<id>.retour.zip`.

`deliver` is the callback client's, for the outbox: once the archive's notice is published, it publishes the
return archive (its `retour.json` the return's bytes as the API would carry them; the same return makes the
same archive, byte for byte), then waits for the ASP's acknowledgement `entrant/<id>.acquittement.json`, reads
it, removes it, and hands its `idAcquittement` back. A failure of the deposit server (refused connection,
transfer cut, full disk) is retried with the same backoff as the callback API, within the same budget in time,
which the wait for the acknowledgement counts against: when it is spent, the delivery fails (the outbox opens
the incident).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.foundations.archive_convention import (
    ACK_SCHEMA,
    INBOUND,
    OUTBOUND,
    ack_name,
    return_archive,
    return_archive_name,
    schema_errors,
)
from harness.reference.archives.remote import RemoteError, Session, session
from harness.reference.callback_client import Delivery, DeliveryFailed, Monotonic, Sleep, encoded
from harness.reference.faults.base import Fault, FaultSet
from harness.reference.settings import ArchiveSettings, RetryPolicy
from harness.reference.store import Store


class ArchiveReturnChannel:
    """Publishes returns on the ASP's deposit server and waits for their acknowledgement, within `policy`."""

    def __init__(
        self,
        store: Store,
        archives: ArchiveSettings,
        tls: ssl.SSLContext | None,
        policy: RetryPolicy,
        faults: FaultSet,
        sleep: Sleep = asyncio.sleep,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self._store = store
        self._archives = archives
        self._tls = tls
        self._policy = policy
        self._faults = faults
        self._sleep = sleep
        self._monotonic = monotonic

    async def aclose(self) -> None:
        """Nothing stays open between deliveries: each has its own session."""

    async def deliver(self, retour: dict[str, Any]) -> Delivery:
        """Publish `retour` as its archive's return archive until the ASP acknowledges it or the budget is spent."""
        deadline = self._monotonic() + self._policy.budget_seconds
        archive_id = await self._notified_archive(str(retour.get("idDepot")), deadline)
        content = self._faults.apply(Fault.return_archive, return_archive(encoded(retour)))
        attempt = 0
        while True:
            attempt += 1
            try:
                async with session(self._archives, self._tls) as remote:
                    await remote.publish(f"/{OUTBOUND}", return_archive_name(archive_id), content)
                    ack_id = await self._acknowledgement(remote, archive_id, str(retour["idRetour"]), deadline, attempt)
                    return Delivery(ack_id, attempt)
            except RemoteError as error:
                reason = f"tentative {attempt} : serveur de dépôt injoignable ou en échec ({error})"
            delay = self._policy.delay_before(attempt + 1)
            if attempt == self._policy.attempts or self._monotonic() + delay > deadline:
                raise DeliveryFailed(reason, attempt)
            await self._sleep(delay)

    async def _notified_archive(self, deposit_id: str, deadline: float) -> str:
        """The archive of the deposit, once its notice is published: a return archive never precedes its notice
        (the consumer publishes it again after a failure of the server)."""
        while (archive := await self._store.run(self._store.archive_of_deposit, deposit_id)) is not None:
            archive_id, notified = archive
            if notified:
                return archive_id
            if self._monotonic() + self._archives.poll_seconds > deadline:
                raise DeliveryFailed(f"la notification de l'archive {archive_id} n'est pas publiée", 0)
            await self._sleep(self._archives.poll_seconds)
        raise DeliveryFailed(f"le dépôt {deposit_id} ne vient d'aucune archive (non réessayable)", 0)

    async def _acknowledgement(
        self, remote: Session, archive_id: str, return_id: str, deadline: float, attempt: int
    ) -> str:
        """The ASP's acknowledgement of the return archive, read from `entrant/` then removed from it."""
        name = ack_name(archive_id)
        while name not in await remote.published(f"/{INBOUND}"):
            if self._monotonic() + self._archives.poll_seconds > deadline:
                raise DeliveryFailed(f"aucun acquittement {INBOUND}/{name} de l'ASP dans le délai", attempt)
            await self._sleep(self._archives.poll_seconds)
        ack = await _read_json(remote, f"/{INBOUND}/{name}")
        problems = schema_errors(ACK_SCHEMA, ack)
        if problems or ack["idRetour"] != return_id:
            detail = problems[0] if problems else f"idRetour {ack['idRetour']} au lieu de {return_id}"
            raise DeliveryFailed(f"acquittement {INBOUND}/{name} illisible : {detail} (non réessayable)", attempt)
        if self._faults.apply(Fault.remove_acknowledgement, True):
            await remote.remove(f"/{INBOUND}/{name}")
        return str(ack["idAcquittement"])


async def _read_json(remote: Session, path: str) -> Any:
    """A small JSON file of the deposit server (None when it is not JSON)."""
    with tempfile.TemporaryDirectory(prefix="acquittement-") as folder:
        target = Path(folder) / "acquittement.json"
        await remote.download(path, target)
        try:
            return json.loads(target.read_bytes())
        except ValueError:
            return None
