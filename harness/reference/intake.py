"""Reception of a deposit body: multipart/form-data streamed to disk while hashing.

The body is never held whole in memory: each `document` part goes straight to its file as the bytes
arrive, and its SHA-256 is updated on the way. The `metadonnees` part (small JSON) is kept in memory,
bounded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.foundations.multipart import DOCUMENT_PART, METADATA_PART, MultipartReader, Part, is_form_data
from harness.foundations.multipart import boundary_of as multipart_boundary
from harness.foundations.problems import Problem
from harness.reference.settings import IntakeLimits
from harness.reference.store import PRIVATE_DIR, PRIVATE_FILE, DocumentRecord

WRITE_BUFFER_BYTES = 1024 * 1024
"""Documents reach the disk through a buffer of this size (one write call per MiB, not per chunk)."""


@dataclass(frozen=True)
class ReceivedBody:
    """What a deposit body held, once fully received."""

    directory: Path
    """Where the documents are; its name is the deposit's id (idDepot)."""
    metadata: bytes | None
    documents: list[DocumentRecord]
    digest: str
    """SHA-256 of the documents concatenated in the order they were sent (the deposit's empreinte)."""


def boundary_of(content_type: str, max_length: int) -> bytes:
    """The multipart boundary of a `multipart/form-data` content type, or a 415/400 problem."""
    if not is_form_data(content_type):
        raise Problem("type-media-non-supporte", "Le dépôt attend un corps multipart/form-data.")
    boundary = multipart_boundary(content_type)
    if boundary is None:
        raise Problem("requete-invalide", "Le type multipart/form-data n'indique pas de boundary.")
    if len(boundary) > max_length:
        raise Problem("requete-invalide", f"La boundary dépasse {max_length} caractères (RFC 2046).")
    return boundary


class MultipartIntake:
    """Feed it the body chunk by chunk; it writes the documents under `directory`.

    Call `finish()` once the body is complete, then `flush()` (on a thread), or `discard()` to remove
    everything written.
    """

    def __init__(self, boundary: bytes, directory: Path, limits: IntakeLimits) -> None:
        self._directory = directory
        self._limits = limits
        self._parts = 0
        self._reader = MultipartReader(boundary, self)
        self._metadata: bytearray | None = None
        self._file: IO[bytes] | None = None
        self._hash: hashlib._Hash | None = None
        self._deposit_hash: hashlib._Hash | None = None
        self._document: tuple[str, str, Path] | None = None
        self._size = 0
        self._documents: list[DocumentRecord] = []

    def feed(self, chunks: list[bytes]) -> None:
        """Parse the next chunks of the body, writing what belongs to documents."""
        try:
            for chunk in chunks:
                self._reader.write(chunk)
        except Problem:
            raise
        except Exception as error:
            raise Problem("requete-invalide", "Le corps multipart est mal formé.") from error

    def finish(self) -> ReceivedBody:
        """Check the body was complete and describe it (its documents reach stable storage by `flush`)."""
        if not self._reader.ended:
            raise Problem("requete-invalide", "Le corps multipart est incomplet (délimiteur final absent).")
        digest = self._deposit_hash.hexdigest() if self._deposit_hash else hashlib.sha256().hexdigest()
        metadata = bytes(self._metadata) if self._metadata is not None else None
        return ReceivedBody(
            directory=self._directory, metadata=metadata, documents=list(self._documents), digest=digest
        )

    def flush(self) -> None:
        """Put the documents, their directory and its entry in `depots/` on stable storage (fsync): after a
        power cut too, the deposit's folder is found where its 202 said."""
        for document in self._documents:
            _fsync_file(document.path)
        _fsync_dir(self._directory)
        _fsync_dir(self._directory.parent)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
        shutil.rmtree(self._directory, ignore_errors=True)

    # -- the reader's handler (PartHandler) ----------------------------------------------------------

    def begin(self, part: Part) -> None:
        self._parts += 1
        if self._parts > self._limits.parts:
            raise Problem(
                "transaction-trop-volumineuse",
                f"Le dépôt compte plus de {self._limits.parts} parties (limite) ; utilisez le mode dossier.",
            )
        if part.disposition != "form-data" or part.name not in (METADATA_PART, DOCUMENT_PART):
            raise Problem("requete-invalide", f"Partie multipart inattendue : « {part.name} ».")
        if part.name == METADATA_PART:
            if self._metadata is not None:
                raise Problem("requete-invalide", "La partie « metadonnees » est présente plusieurs fois.")
            self._metadata = bytearray()
            return
        filename = Path(part.filename).name or f"document-{len(self._documents) + 1}"
        self._open_document(self._checked_name(filename), part.content_type or "application/octet-stream")

    def _checked_name(self, name: str) -> str:
        """A document's file name as stored: no control character, bounded length."""
        if len(name) > self._limits.file_name_length or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
            raise Problem(
                "requete-invalide",
                f"Nom de fichier refusé : caractère de contrôle ou plus de {self._limits.file_name_length} caractères.",
            )
        return name

    def _open_document(self, name: str, content_type: str) -> None:
        self._directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        path = self._directory / f"{len(self._documents) + 1:04d}"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        self._file = os.fdopen(descriptor, "wb", buffering=WRITE_BUFFER_BYTES)
        self._hash = hashlib.sha256()
        self._document = (name, content_type, path)
        self._size = 0

    def data(self, chunk: memoryview) -> None:
        if self._document is None:  # between `begin` and `end` of the metadata part
            assert self._metadata is not None
            if len(self._metadata) + len(chunk) > self._limits.metadata_bytes:
                raise Problem("requete-invalide", "La partie « metadonnees » est trop volumineuse.")
            self._metadata += chunk
            return
        assert self._file is not None
        assert self._hash is not None
        self._file.write(chunk)
        self._hash.update(chunk)
        if self._deposit_hash is not None:
            self._deposit_hash.update(chunk)
        self._size += len(chunk)

    def end(self, part: Part) -> None:
        if part.name != DOCUMENT_PART:
            return
        assert self._file is not None
        assert self._hash is not None
        assert self._document is not None
        self._file.close()
        self._file = None
        if self._deposit_hash is None:
            # The deposit's hash after its first document is that document's hash: copy, don't re-hash.
            self._deposit_hash = self._hash.copy()
        name, content_type, path = self._document
        self._document = None
        self._documents.append(
            DocumentRecord(len(self._documents) + 1, name, content_type, self._size, self._hash.hexdigest(), path)
        )


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if path.is_dir():
        _fsync_file(path)
