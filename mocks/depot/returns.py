"""The ASP's reader of return archives (canal archive de retour): `sortant/<id>.retour.zip` → the return journal.

Each time the journal shows a return archive published in a titulaire's `sortant/` (renamed there, or written
there whole), the ASP side copies it out of the titulaire's reach (`retours-archives/` beside the journal,
numbered, never overwritten), reads it in streaming with the standard library's `zipfile` and its own limits
(one entry, `retour.json`, neither encrypted nor beyond the agreed sizes), validates the Retour (the callback
contract's and `retour.schema.json`), and records it in the SAME journal of returns as the callback API
(`ReturnRecorder`, `canal: archive`), judged by the same "exactly one return per deposit" rule. A conforming
return is acknowledged by `entrant/<id>.acquittement.json`; a bad one is recorded with its violations and
left unacknowledged. Nothing a return archive holds can stop the reader: it works on its own thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from harness.foundations.archive_convention import (
    INBOUND,
    OUTBOUND,
    RETURN_ARCHIVE_SUFFIX,
    RETURN_FILE,
    RETURN_SCHEMA,
    ack_name,
    is_published,
    notice_name,
    schema_errors,
)
from mocks.asp.app import MAX_RETURN_BYTES
from mocks.asp.recorder import ReceivedCall, ReturnRecorder, Verdict
from mocks.asp.validation import check_return_body
from mocks.depot.journal import RENAME, UPLOAD, Exchange

log = logging.getLogger(__name__)
EVIDENCE_FOLDER = "retours-archives"
CHUNK_BYTES = 64 * 1024
ZIP_MEDIA_TYPE = "application/zip"
UNREADABLE = "archive-de-retour-illisible"
NOT_AGREED = "canal-de-retour-non-convenu"
MISNAMED = "archive-de-retour-mal-nommee"
INVALID = "retour-invalide"
STOP = ""
OUTBOUND_PATH = PurePosixPath("/", OUTBOUND)


@dataclass(frozen=True)
class ReturnArchiveLimits:
    """What the ASP reads of a return archive: the same bounds as the API's transaction (a Retour of 20 MB at
    most), and the compression ratio agreed for the inbound archives."""

    archive_bytes: int = MAX_RETURN_BYTES
    entry_bytes: int = MAX_RETURN_BYTES
    ratio: float = 100.0


class ReturnArchiveRefused(Exception):
    """The return archive cannot give its `retour.json`: why, in French."""


class ReturnArchiveReader:
    """Reads each return archive published in `space/sortant/` and records it in `recorder`.

    `acknowledge(name, content)` writes the acknowledgement in `entrant/` (the deposit server's own `put`);
    `agreed`: whether returns are agreed on this channel (otherwise each return archive is a violation)."""

    def __init__(
        self,
        space: Path,
        evidence: Path,
        recorder: ReturnRecorder,
        acknowledge: Callable[[str, bytes], object],
        agreed: bool = True,
        limits: ReturnArchiveLimits = ReturnArchiveLimits(),
    ) -> None:
        self._space = space
        self._evidence = evidence
        self._recorder = recorder
        self._acknowledge = acknowledge
        self._agreed = agreed
        self._limits = limits
        self._pending: queue.Queue[str] = queue.Queue()
        evidence.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._copies = len(list(evidence.iterdir()))
        self._thread = threading.Thread(target=self._work, name="depot-retours", daemon=True)

    def start(self) -> ReturnArchiveReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._pending.put(STOP)
        self._thread.join()

    def wait_idle(self) -> None:
        """Until every return archive published so far is recorded (for tests and orderly stops)."""
        self._pending.join()

    def observe(self, exchange: Exchange) -> None:
        """A journal entry: a return archive published in `sortant/` (renamed there, or written there whole)
        is queued for reading."""
        if exchange.operation == RENAME:
            published = exchange.cible
        elif exchange.operation == UPLOAD and exchange.complet:
            published = exchange.chemin
        else:
            return
        path = PurePosixPath(published or "/")
        if path.parent == OUTBOUND_PATH and is_published(path.name) and path.name.endswith(RETURN_ARCHIVE_SUFFIX):
            self._pending.put(path.name)

    def _work(self) -> None:
        while (name := self._pending.get()) != STOP:
            try:
                self._read(name)
            except Exception:  # a bug of the reader: logged, the next return archive is read all the same
                log.exception("return archive sortant/%s could not be recorded", name)
            finally:
                self._pending.task_done()
        self._pending.task_done()

    def _read(self, name: str) -> None:
        received_at = self._recorder.clock()
        try:
            copy = self._keep(name)
        except FileNotFoundError:
            return  # replaced or removed before it could be read: its successor has its own journal entry
        except OSError as error:  # a symbolic link (ELOOP), or a folder: recorded, never followed
            refused = self._refused(received_at, name, f"pas un fichier ordinaire ({error.strerror})")
            refused.detail = f"archive de retour sortant/{name} : non lue"
            self._recorder.record(refused)
            return
        digest, size = _digest(copy)
        archive_id = name.removesuffix(RETURN_ARCHIVE_SUFFIX)
        try:
            body = read_return(copy, self._limits)
        except ReturnArchiveRefused as refusal:
            call = self._refused(received_at, name, str(refusal))
        else:
            call = ReceivedCall.of(received_at, body, "application/json")
            call.channel = "archive"
            call.named_deposit = self._notified_deposit(archive_id)
            self._judge(call, archive_id)
        call.detail = f"archive de retour sortant/{name} ({size} octets, SHA-256 {digest}) : {call.detail or 'lue'}"
        self._recorder.record(call)

    def _refused(self, received_at: datetime, name: str, why: str) -> ReceivedCall:
        """A return archive that gives no `retour.json`, judged for the deposit its archive's notice names."""
        call = ReceivedCall(received_at, b"", ZIP_MEDIA_TYPE, channel="archive")
        call.violations = [f"{UNREADABLE} : {why}"]
        call.named_deposit = self._notified_deposit(name.removesuffix(RETURN_ARCHIVE_SUFFIX))
        return call

    def _keep(self, name: str) -> Path:
        """A numbered copy of the return archive out of the titulaire's reach, of at most one byte beyond the
        limit (what is beyond is never read)."""
        self._copies += 1
        copy = self._evidence / f"{self._copies:06d}-{name}"
        remaining = self._limits.archive_bytes + 1
        descriptor = os.open(self._space / OUTBOUND / name, os.O_RDONLY | os.O_NOFOLLOW)  # a link is not a return
        with os.fdopen(descriptor, "rb") as source, copy.open("xb") as target:
            while remaining and (chunk := source.read(min(CHUNK_BYTES, remaining))):
                target.write(chunk)
                remaining -= len(chunk)
        return copy

    def _judge(self, call: ReceivedCall, archive_id: str) -> None:
        """The contract, the convention, then the "exactly one return per deposit" rule; the ack when accepted."""
        if call.retour is None:
            call.violations = [f"{INVALID} : {RETURN_FILE} n'est pas du JSON lisible ({call.unreadable})"]
            return
        problem = check_return_body(call.body)
        if problem is not None:
            call.errors = list(problem.extensions["erreurs"])
            call.violations = [f"{e['emplacement']} : {e['message']}" for e in call.errors]
        call.violations += [f"{RETURN_SCHEMA} : {error}" for error in schema_errors(RETURN_SCHEMA, call.retour)]
        if not call.violations:
            call.violations = self._channel_defects(call, archive_id)
        if call.violations:
            return
        decision = self._recorder.decide(call.retour, call.received_at)
        if not decision.accepted:
            call.violations.append(decision.verdict.value)
            call.detail = f"non acquitté ({decision.verdict.value}, idRetour acquitté {decision.ack.id_retour})"
            return
        call.redelivery = decision.verdict is Verdict.REDELIVERY
        call.ack_id = decision.ack.id_acquittement
        ack = {**decision.ack.to_json(), "idDepot": call.id_depot}
        self._acknowledge(ack_name(archive_id), json.dumps(ack, ensure_ascii=False).encode() + b"\n")
        call.detail = f"acquitté par {INBOUND}/{ack_name(archive_id)}"

    def _channel_defects(self, call: ReceivedCall, archive_id: str) -> list[str]:
        """The channel is the one agreed, and the archive named for the archive whose notice gave its idDepot."""
        if not self._agreed:
            return [f"{NOT_AGREED} : le retour de cette archive est convenu sur l'API de retour de l'ASP"]
        if self._notified_deposit(archive_id) != call.id_depot:
            return [f"{MISNAMED} : aucune notification de l'archive {archive_id} ne donne l'idDepot {call.id_depot}"]
        return []

    def _notified_deposit(self, archive_id: str) -> str | None:
        """The idDepot the titulaire's notice of `archive_id` gave: the deposit a return archive is judged for,
        even when it gives none itself."""
        notice = _json_file(self._space / OUTBOUND / notice_name(archive_id))
        id_depot = notice.get("idDepot") if notice is not None else None
        return id_depot if isinstance(id_depot, str) else None


def read_return(archive: Path, limits: ReturnArchiveLimits) -> bytes:
    """The bytes of `retour.json`, read in streaming and bounded; `ReturnArchiveRefused` says what is wrong."""
    if archive.stat().st_size > limits.archive_bytes:
        raise ReturnArchiveRefused(f"archive de plus de {limits.archive_bytes} octets")
    try:
        with zipfile.ZipFile(archive) as bundle:
            entries = bundle.infolist()
            names = [entry.filename for entry in entries]
            if names != [RETURN_FILE]:
                raise ReturnArchiveRefused(f"entrées {names[:5]} : seule « {RETURN_FILE} » est attendue")
            return _read_entry(bundle, entries[0], limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as error:
        raise ReturnArchiveRefused(f"zip illisible ({type(error).__name__} : {error})") from error


def _read_entry(bundle: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: ReturnArchiveLimits) -> bytes:
    if entry.flag_bits & 0x1:
        raise ReturnArchiveRefused(f"{RETURN_FILE} est chiffré")
    if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ReturnArchiveRefused(f"{RETURN_FILE} : méthode de compression {entry.compress_type} non reçue")
    bound = min(limits.entry_bytes, int(max(entry.compress_size, 1) * limits.ratio))
    read = bytearray()
    with bundle.open(entry) as stream:  # the header's sizes are not trusted: the bytes read are counted
        while chunk := stream.read(CHUNK_BYTES):
            read += chunk
            if len(read) > bound:
                raise ReturnArchiveRefused(f"{RETURN_FILE} dépasse {bound} octets décompressés (taille ou taux)")
    return bytes(read)


def _digest(path: Path) -> tuple[str, int]:
    """The file's SHA-256 and size."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest(), path.stat().st_size


def _json_file(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
