"""The archive consumer: watches `entrant/` on the ASP's deposit server and turns each archive into one deposit.

At each look it (1) publishes the notices a failure left unpublished, then (2) for each archive published in
`entrant/`: downloads it, extracts it safely, records its notice (and, when accepted, its deposit, in the same
transaction), publishes the notice atomically in `sortant/` and removes the archive from `entrant/`. The
worker then processes the deposit like any API deposit, and the outbox sends its one return
(`modeEchange: DOSSIER`). A refused archive opens an incident (recorded and mailed). A retransmission request
(`*.retransmission.json`) sends the same return again, as the API's route does; an acknowledgement of a return
archive (`*.acquittement.json`) is left to the return-archive channel (`return_channel.py`). An archive already
received is never processed twice: its notice is published again. The looks share one connection (a
new SSH or TLS session every half second would cost more than the looks themselves); a failure of the
server (refused connection, transfer cut, full disk) ends the look and the connection, and the next look
connects again and starts where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import mimetypes
import shutil
import ssl
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.foundations.archive_convention import (
    ACK_SUFFIX,
    ARCHIVE_ID,
    INBOUND,
    OUTBOUND,
    RESEND_SCHEMA,
    RESEND_SUFFIX,
    archive_format,
    notice_name,
    schema_errors,
    temporary_name,
)
from harness.foundations.problems import Problem
from harness.reference.archives.extraction import ArchiveRefused, extract
from harness.reference.archives.manifest import Manifest, read_manifest
from harness.reference.archives.remote import RemoteError, Session, session
from harness.reference.faults.base import Fault, FaultSet
from harness.reference.incidents import Incidents
from harness.reference.settings import ArchiveSettings, ReferenceSettings
from harness.reference.store import PRIVATE_DIR, DepositRecord, DocumentRecord, Store
from harness.reference.worker import RECEIVED, timestamp

log = logging.getLogger(__name__)
ARCHIVE_FILE = "archive"
"""The archive as received, kept in its deposit's folder for the retention period."""


@dataclass(frozen=True)
class Received:
    """An archive downloaded from `entrant/`."""

    name: str
    archive_id: str
    kind: str
    path: Path
    size: int
    digest: str
    received_at: datetime


class ArchiveConsumer:
    """Watches the deposit server every `poll_seconds`; `on_deposit` wakes the worker."""

    def __init__(
        self,
        store: Store,
        settings: ReferenceSettings,
        archives: ArchiveSettings,
        tls: ssl.SSLContext | None,
        incidents: Incidents,
        clock: Callable[[], datetime],
        on_deposit: Callable[[], None],
        faults: FaultSet,
        resend: Callable[[str], Awaitable[object]],
    ) -> None:
        self._store = store
        self._settings = settings
        self._archives = archives
        self._tls = tls
        self._incidents = incidents
        self._clock = clock
        self._on_deposit = on_deposit
        self._faults = faults
        self._resend = resend
        """Plans the retransmission of a deposit's return (the API's own route does the same)."""
        self._downloads = settings.data_dir / "archives"
        self._downloads.mkdir(mode=PRIVATE_DIR, exist_ok=True)

    async def run(self) -> None:
        """Look every `poll_seconds` through one connection, opened again after a failure."""
        while True:
            try:
                async with session(self._archives, self._tls) as remote:
                    while True:
                        await self.look(remote)
                        await asyncio.sleep(self._archives.poll_seconds)
            except RemoteError as error:
                log.warning("deposit server: %s (tried again in %ss)", error, self._archives.poll_seconds)
            await asyncio.sleep(self._archives.poll_seconds)

    async def look(self, remote: Session) -> None:
        """One look at the deposit server."""
        for notice in await self._store.run(self._store.unpublished_notices):
            await self._publish(remote, notice)
        for name in await remote.published(f"/{INBOUND}"):
            await self._take(remote, name)

    async def _take(self, remote: Session, name: str) -> None:
        if name.endswith(RESEND_SUFFIX):
            await self._resend_request(remote, name)
            return
        if name.endswith(ACK_SUFFIX):
            return  # the acknowledgement of a return archive: read by the return-archive channel
        identified = archive_format(name)
        archive_id = identified[0] if identified else name.split(".", 1)[0]
        if not ARCHIVE_ID.match(archive_id):
            log.warning("entrant/%s: no archive identifier in its name, left in place", name)
            return
        notice = await self._store.run(self._store.archive_notice, archive_id)
        if notice is None:
            received = await self._download(remote, name, archive_id, identified[1] if identified else "")
            notice = await self._receive(received)
        await self._publish(remote, notice)
        await remote.remove(f"/{INBOUND}/{name}")

    async def _resend_request(self, remote: Session, name: str) -> None:
        """A retransmission request (demande de retransmission): the same return sent again within retention;
        an invalid or refused request opens an incident (an anomaly of the exchange). The request is then removed."""
        target = self._downloads / temporary_name(name)
        try:
            await remote.download(f"/{INBOUND}/{name}", target)
            problem = await self._resend_requested(target.read_bytes())
        finally:
            target.unlink(missing_ok=True)
        if problem is not None:
            await self._incidents.open(
                None, f"demande de retransmission {name} refusée", f"La demande entrant/{name} est refusée : {problem}"
            )
        await remote.remove(f"/{INBOUND}/{name}")

    async def _resend_requested(self, content: bytes) -> str | None:
        """Ask the retransmission; None when it is planned, else why it is refused."""
        try:
            request = json.loads(content)
        except ValueError as error:
            return f"pas du JSON ({error})"
        if errors := schema_errors(RESEND_SCHEMA, request):
            return errors[0]
        try:
            await self._resend(request["idDepot"])
        except Problem as problem:
            return f"{problem.code} — {problem.detail}"
        return None

    async def _download(self, remote: Session, name: str, archive_id: str, kind: str) -> Received:
        target = self._downloads / temporary_name(name)
        try:
            await remote.download(f"/{INBOUND}/{name}", target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        size, digest = await asyncio.to_thread(_measure, target)
        return Received(name, archive_id, kind, target, size, digest, self._clock())

    async def _receive(self, received: Received) -> dict[str, Any]:
        """Extract, check, and record the archive; its notice (accepted or refused)."""
        deposit_id = str(uuid.uuid4())
        folder = self._settings.data_dir / "depots" / deposit_id
        try:
            manifest = await asyncio.to_thread(self._unpack, received, folder)
        except ArchiveRefused as refusal:
            code = self._faults.apply(Fault.archive_refusal, refusal.code, received.path, folder)
            shutil.rmtree(folder, ignore_errors=True)
            received.path.unlink(missing_ok=True)
            return await self._refuse(received, ArchiveRefused(code, refusal.detail))
        received.path.rename(folder / ARCHIVE_FILE)
        deposit, documents = self._deposit(deposit_id, received, manifest)
        notice = self._notice(received, "ACCEPTEE", idDepot=deposit_id, nombrePieces=manifest.pieces)
        await self._store.run(self._store.add_archive, received.archive_id, notice, deposit, documents)
        self._on_deposit()
        return notice

    def _unpack(self, received: Received, folder: Path) -> Manifest:
        if not received.kind:
            raise ArchiveRefused("format-non-supporte", f"{received.name} : formats reçus zip, tar, tar.gz")
        files = extract(received.path, received.kind, folder, self._archives.limits)
        return read_manifest(received.archive_id, files, self._archives.limits.manifest_bytes)

    async def _refuse(self, received: Received, refusal: ArchiveRefused) -> dict[str, Any]:
        code = refusal.code
        incident = await self._incidents.open(
            None,
            f"archive {received.archive_id} refusée ({code})",
            f"L'archive {received.name} ({received.size} octets, SHA-256 {received.digest}) déposée sur le "
            f"serveur de dépôt est refusée.\nMotif : {code} — {refusal.detail}",
        )
        motifs = [{"code": code, "detail": refusal.detail}]
        notice = self._notice(received, "REJETEE", motifs=motifs, idIncident=incident)
        await self._store.run(self._store.add_archive, received.archive_id, notice, None, [])
        return notice

    def _notice(self, received: Received, status: str, **fields: Any) -> dict[str, Any]:
        notice = {
            "identifiantArchive": received.archive_id,
            "nomFichier": received.name,
            "statut": status,
            "recueLe": timestamp(received.received_at),
            "tailleOctets": received.size,
            "empreinte": {"algorithme": "SHA-256", "valeur": received.digest},
            **({"format": received.kind} if received.kind else {}),
            **fields,
        }
        return self._faults.apply(Fault.archive_notice, notice)

    def _deposit(
        self, deposit_id: str, received: Received, manifest: Manifest
    ) -> tuple[DepositRecord, list[DocumentRecord]]:
        now = received.received_at
        deposit = DepositRecord(
            id=deposit_id,
            received_at=now,
            metadata=manifest.metadata,
            body_bytes=received.size,
            digest=manifest.digest,
            fingerprint=received.digest,
            status=RECEIVED,
            retain_until=self._settings.retain_until(now),
            purged=False,
            mode="DOSSIER",
        )
        documents = [
            DocumentRecord(
                position,
                document.file.name,
                mimetypes.guess_type(document.file.name)[0] or "application/octet-stream",
                document.file.size,
                document.file.digest,
                document.file.path,
                document.uid,
            )
            for position, document in enumerate(manifest.documents)
        ]
        return deposit, documents

    async def _publish(self, remote: Session, notice: dict[str, Any]) -> None:
        """Publish `notice` in `sortant/` (atomically), then record that it is."""
        archive_id = notice["identifiantArchive"]
        content = json.dumps(notice, ensure_ascii=False, indent=2).encode() + b"\n"
        await remote.publish(f"/{OUTBOUND}", notice_name(archive_id), content)
        await self._store.run(self._store.mark_notice_published, archive_id, self._clock())


def _measure(path: Path) -> tuple[int, str]:
    """The file's size and SHA-256."""
    with path.open("rb") as handle:
        return path.stat().st_size, hashlib.file_digest(handle, "sha256").hexdigest()
