"""The mail room (service courrier): registers each pli posted, digitizes it, and queues it as a deposit.

Registration gives the pli its identifier (the agreed pattern of the settings) and its reception date-time;
digitization writes one piece per page (a per-piece UID, its SHA-256) and reads the letter back (LAD) for
the dossier and the business data, at its own date-time. The pli is then a deposit of mode PAPIER: the worker
processes it (type detection, controls, one more for reading each page) and the outbox sends its one return,
with retries, incident, retention and retransmission as for any deposit. Every date comes from the clock.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.foundations.clock import Clock
from harness.foundations.exchange_modes import paris_day
from harness.reference.controls import Control
from harness.reference.paper.letters import Letter, extracted, read_page
from harness.reference.paper.posting import Posting
from harness.reference.settings import ReferenceSettings
from harness.reference.store import PRIVATE_DIR, PRIVATE_FILE, DepositRecord, DocumentRecord, Store

PAPER = "PAPIER"
READING = "LECTURE_PLI"


class MailRoom:
    """Takes plis in, each to one deposit of mode PAPIER, and wakes the worker."""

    def __init__(
        self,
        store: Store,
        settings: ReferenceSettings,
        clock: Clock,
        directory_of: Callable[[str], Path],
        wake: Callable[[], None],
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._directory_of = directory_of
        self._wake = wake

    async def receive(self, posting: Posting, run_id: str | None, motif: str | None) -> DepositRecord:
        """Register, digitize and queue one pli; its deposit (with `pli`: idPli, site, canal, numeriseLe)."""
        received_at = self._clock()
        deposit_id = str(uuid.uuid4())
        directory = self._directory_of(deposit_id)
        try:
            documents = await self._store.run(_scan, directory, posting.pages)
            deposit = await self._store.run(self._register, deposit_id, received_at, posting, documents, run_id, motif)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        self._wake()
        return deposit

    def _register(
        self,
        deposit_id: str,
        received_at: datetime,
        posting: Posting,
        documents: list[DocumentRecord],
        run_id: str | None,
        motif: str | None,
    ) -> DepositRecord:
        """The pli's identifier (its rank among the plis) and its deposit, recorded (on the store's thread)."""
        pli_id = self._settings.pli_id_pattern.format(
            site=posting.site,
            canal=posting.canal,
            jour=paris_day(received_at).strftime("%Y%m%d"),
            numero=self._store.count_plis() + 1,
        )
        letters = [letter for d in documents if (letter := read_page(d.path.read_bytes())) is not None]
        digest = hashlib.sha256(b"".join(bytes.fromhex(d.digest) for d in documents)).hexdigest()
        deposit = DepositRecord(
            id=deposit_id,
            received_at=received_at,
            metadata=_metadata(posting.application, pli_id, letters),
            body_bytes=sum(d.size for d in documents),
            digest=digest,
            fingerprint=digest,
            status="RECU",
            retain_until=self._settings.retain_until(received_at),
            purged=False,
            run_id=run_id,
            motif=motif,
            mode=PAPER,
            pli={
                "idPli": pli_id,
                "site": posting.site,
                "canal": posting.canal,
                "numeriseLe": self._clock().isoformat(),
            },
        )
        self._store.add_deposit(deposit, documents, None)
        return deposit


def _scan(directory: Path, pages: list[bytes]) -> list[DocumentRecord]:
    """Digitization: one piece per page, written privately, with its UID and SHA-256."""
    directory.mkdir(mode=PRIVATE_DIR, parents=True)
    documents = []
    for position, page in enumerate(pages, start=1):
        path = directory / f"page-{position:03d}.pdf"
        path.touch(mode=PRIVATE_FILE)
        path.write_bytes(page)
        digest = hashlib.sha256(page).hexdigest()
        documents.append(
            DocumentRecord(position, path.name, "application/pdf", len(page), digest, path, str(uuid.uuid4()))
        )
    return documents


def _metadata(application: str, pli_id: str, letters: list[Letter]) -> dict[str, Any]:
    """The pli's metadata: the application whose address received it, the dossier and business data read on
    its first readable page; when none can be read, the pli's identifier stands for the dossier."""
    first = letters[0] if letters else None
    metadata: dict[str, Any] = {
        "applicationSource": application,
        "identifiantDossier": first.dossier if first else pli_id,
        "numeroIteration": 1,
    }
    return metadata | ({"donneesMetier": dict(first.data)} if first and first.data else {})


def read_piece(path: Path) -> tuple[dict[str, Any], Control]:
    """A page's data read back (LAD) and the control that it could be read."""
    letter = read_page(path.read_bytes())
    if letter is None:
        return {}, Control(READING, "Le contenu du pli est lisible", False, "aucune donnée lisible sur la page")
    return extracted(letter), Control(READING, "Le contenu du pli est lisible", True)
