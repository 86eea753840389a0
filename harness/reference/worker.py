"""The worker: processes each received deposit and stores its single return in the outbox.

Processing a deposit (recognition, controls) and storing its return is one transaction, so a deposit is
processed to exactly one (frozen) return even across crashes: a deposit caught mid-processing by a crash goes
back to RECU at start-up and is processed again, its return not having been stored yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from harness.foundations.exchange_modes import paris_day
from harness.reference.controls import Control, control_document, control_sae, rejection_reason
from harness.reference.faults.base import Fault, FaultSet
from harness.reference.paper.mailroom import read_piece
from harness.reference.recognition import recognize
from harness.reference.store import DepositRecord, DocumentRecord, Store

log = logging.getLogger(__name__)
RECEIVED, PROCESSING = "RECU", "EN_TRAITEMENT"


def timestamp(moment: datetime) -> str:
    """The wire format of every date-time the reference sends: UTC, microseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Worker:
    """Takes deposits in RECU, one at a time, and turns each into its return."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        on_return: Callable[[], None],
        poll_seconds: float,
        faults: FaultSet,
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_return = on_return
        self._poll_seconds = poll_seconds
        self._faults = faults
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def _recover(self) -> None:
        """Deposits left EN_TRAITEMENT by a crash go back to RECU."""
        for deposit_id in self._store.deposits_in(PROCESSING):
            self._store.set_status(deposit_id, RECEIVED, self._clock(), "reprise après arrêt")

    async def run(self) -> None:
        await self._store.run(self._recover)
        while True:
            for deposit_id in await self._store.run(self._store.deposits_in, RECEIVED):
                await self._process(deposit_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()

    async def _process(self, deposit_id: str) -> None:
        taken = await self._store.run(self._take, deposit_id)
        if taken is None:
            return
        deposit, documents = taken
        pieces, controls = await asyncio.to_thread(_examine, deposit, documents)
        payload = build_return(deposit, pieces, controls, str(uuid.uuid4()), self._clock())
        payload = self._faults.apply(Fault.return_built, payload)
        await self._store.run(
            self._store.add_return, deposit_id, payload["idRetour"], payload["statut"], payload, self._clock()
        )
        self._on_return()

    def _take(self, deposit_id: str) -> tuple[DepositRecord, list[DocumentRecord]] | None:
        """The deposit, marked EN_TRAITEMENT, and its documents (None if it is unknown)."""
        deposit = self._store.deposit(deposit_id)
        if deposit is None:
            return None
        self._store.set_status(deposit_id, PROCESSING, self._clock())
        return deposit, self._store.documents(deposit_id)


def _examine(deposit: DepositRecord, documents: list[DocumentRecord]) -> tuple[list[dict[str, Any]], list[Control]]:
    """Recognize and control every document; return the per-piece results and all the controls."""
    pieces: list[dict[str, Any]] = []
    all_controls: list[Control] = []
    for document in documents:
        recognition = recognize(document.path)
        controls = control_document(recognition, document.size)
        fields = recognition.fields
        if deposit.pli is not None:  # mode papier: the page is read back (LAD)
            read, reading = read_piece(document.path)
            fields, controls = fields | read, [*controls, reading]
        all_controls += controls
        pieces.append(
            {
                "uid": document.uid or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{deposit.id}/{document.position}")),
                "nom": document.name,
                "typeDetecte": recognition.kind,
                "tailleOctets": document.size,
                "empreinte": {"algorithme": "SHA-256", "valeur": document.digest},
                "donneesExtraites": fields,
                "controles": [c.to_json() for c in controls],
            }
        )
    if sae := control_sae(deposit.metadata, deposit.digest):
        all_controls.append(sae)
        for piece in pieces:
            piece["controles"].append(sae.to_json())
    return pieces, all_controls


def build_return(
    deposit: DepositRecord, pieces: list[dict[str, Any]], controls: list[Control], return_id: str, now: datetime
) -> dict[str, Any]:
    """The single return (Retour) of a deposit, every metadata field echoed unchanged."""
    reason = rejection_reason(controls)
    retour: dict[str, Any] = {
        "idRetour": return_id,
        "idDepot": deposit.id,
        "modeEchange": deposit.mode,
        "metadonnees": deposit.metadata,
        "statut": "REJETE" if reason else "TRAITE",
        "pieces": pieces,
        "recuLe": timestamp(deposit.received_at),
        "traiteLe": timestamp(now),
        "envoyeLe": timestamp(now),
    }
    if reason:
        retour["motifRejet"] = reason
    return retour | _paper_fields(deposit)


def _paper_fields(deposit: DepositRecord) -> dict[str, Any]:
    """Mode papier: the pli's identifier, its days in Paris and its digitization date-time (none otherwise)."""
    if deposit.pli is None:
        return {}
    digitized = datetime.fromisoformat(deposit.pli["numeriseLe"])
    return {
        "idPli": deposit.pli["idPli"],
        "dateReceptionPli": paris_day(deposit.received_at).isoformat(),
        "dateNumerisation": paris_day(digitized).isoformat(),
        "numeriseLe": timestamp(digitized),
    }
