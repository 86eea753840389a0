"""The multipart body of a deposit, read as it streams in (python-multipart): the metadata and each document."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header

from tests.fair_titulaire.problems import Refusal

METADATA, DOCUMENT = "metadonnees", "document"
SNIFF_BYTES = 8
SIGNATURES = {b"%PDF": "PDF", b"\xff\xd8\xff": "JPEG", b"\x89PNG": "PNG", b"II*\x00": "TIFF", b"MM\x00*": "TIFF"}


def boundary(content_type: str) -> bytes:
    """The boundary of a `multipart/form-data` content type; 415 for any other type."""
    media_type, options = parse_options_header(content_type)
    if media_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise Refusal(415, "type-media-non-supporte", "Un dépôt est un formulaire multipart/form-data.")
    return options[b"boundary"]


@dataclass
class Document:
    """One `document` part: its file name, size, SHA-256 and first bytes."""

    name: str
    size: int = 0
    head: bytes = b""
    sha256: Any = field(default_factory=hashlib.sha256)

    def detected_type(self) -> str:
        """The type recognised (RAD) from the first bytes, else from the file name."""
        for signature, kind in SIGNATURES.items():
            if self.head.startswith(signature):
                return kind
        return "TEXTE" if self.name.lower().endswith(".txt") else "INCONNU"


class DepositForm:
    """Feed it the body's chunks; then `metadata()` and `documents` (a bad part is a 400 problem)."""

    def __init__(self, content_type: str) -> None:
        self.documents: list[Document] = []
        self.digest = hashlib.sha256()
        """SHA-256 of the documents concatenated in the order sent."""
        self._metadata: bytearray | None = None
        self._part: str | None = None
        self._header: tuple[bytearray, bytearray] = (bytearray(), bytearray())
        self._disposition: dict[bytes, bytes] = {}
        self._parser = MultipartParser(
            boundary(content_type),
            {
                "on_part_begin": self._begin,
                "on_header_field": lambda d, s, e: self._header[0].extend(d[s:e]),
                "on_header_value": lambda d, s, e: self._header[1].extend(d[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
            },
        )

    def write(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except Refusal:
            raise
        except Exception as error:
            raise Refusal(400, "requete-invalide", "Corps multipart illisible.") from error

    def finish(self) -> None:
        self.write(b"")
        self._parser.finalize()

    def metadata(self) -> dict[str, Any]:
        """The `metadonnees` part, parsed; 400 when it is absent or not a JSON object, or without document."""
        if self._metadata is None:
            raise Refusal(400, "requete-invalide", "La partie « metadonnees » est absente.")
        if not self.documents:
            raise Refusal(400, "requete-invalide", "Au moins une partie « document » est requise.")
        try:
            parsed = json.loads(self._metadata)
        except ValueError as error:
            raise Refusal(400, "requete-invalide", "La partie « metadonnees » n'est pas du JSON.") from error
        if not isinstance(parsed, dict):
            raise Refusal(422, "metadonnees-invalides", "Les métadonnées sont un objet JSON.")
        return parsed

    def _begin(self) -> None:
        self._disposition = {}

    def _header_end(self) -> None:
        name, value = (bytes(b) for b in self._header)
        if name.lower() == b"content-disposition":
            self._disposition = parse_options_header(value)[1]
        self._header = (bytearray(), bytearray())

    def _headers_finished(self) -> None:
        part = self._disposition.get(b"name", b"").decode("utf-8", "replace")
        if part == METADATA and self._metadata is None:
            self._metadata = bytearray()
        elif part == DOCUMENT:
            filename = self._disposition.get(b"filename", b"").decode("utf-8", "replace")
            self.documents.append(Document(filename or f"document-{len(self.documents) + 1}"))
        else:
            raise Refusal(400, "requete-invalide", f"Partie inattendue « {part} ».")
        self._part = part

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._part == METADATA and self._metadata is not None:
            self._metadata += chunk
            return
        document = self.documents[-1]
        if len(document.head) < SNIFF_BYTES:
            document.head += chunk[: SNIFF_BYTES - len(document.head)]
        document.size += len(chunk)
        document.sha256.update(chunk)
        self.digest.update(chunk)
