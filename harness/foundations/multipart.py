"""Deposit bodies (DepotMultipart) read part by part as they stream in, through python-multipart.

`MultipartReader` turns python-multipart's low-level callbacks into three calls on a `PartHandler`: a
part begins (its headers read), some of its bytes arrived, it ended. Nothing is held in memory but the
headers of the current part: what to keep of each part is the handler's business (the reference writes
documents to disk, the harness hashes what it sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from python_multipart.multipart import MultipartParser, parse_options_header

FORM_DATA = b"multipart/form-data"
METADATA_PART = "metadonnees"
DOCUMENT_PART = "document"


@dataclass(frozen=True)
class Part:
    """The headers of one part: its disposition, its field name, its file name ("" if none), its media type."""

    disposition: str
    name: str
    filename: str
    content_type: str | None


class PartHandler(Protocol):
    """What is done with each part of a body, as its bytes arrive."""

    def begin(self, part: Part) -> None: ...

    def data(self, chunk: memoryview) -> None: ...

    def end(self, part: Part) -> None: ...


def is_form_data(content_type: str) -> bool:
    return parse_options_header(content_type)[0] == FORM_DATA


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a `multipart/form-data` content type (None when it is not one, or names none)."""
    media_type, options = parse_options_header(content_type)
    return (options.get(b"boundary") or None) if media_type == FORM_DATA else None


class MultipartReader:
    """Feed it a body chunk by chunk (`write`), then `finalize`; `ended` tells whether the final boundary came.

    python-multipart raises its own errors (and ValueError) on a malformed body; what the handler raises
    goes through unchanged.
    """

    def __init__(self, boundary: bytes, handler: PartHandler) -> None:
        self._handler = handler
        self._headers: dict[str, str] = {}
        self._field, self._value = bytearray(), bytearray()
        self._part: Part | None = None
        self.ended = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._headers.clear,
                "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
                "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": lambda data, start, end: self._handler.data(memoryview(data)[start:end]),
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def write(self, chunk: bytes) -> None:
        self._parser.write(chunk)

    def finalize(self) -> None:
        self._parser.finalize()

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode("utf-8", "replace")
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition", ""))
        self._part = Part(
            disposition.decode("latin-1"),
            options.get(b"name", b"").decode("utf-8", "replace"),
            options.get(b"filename", b"").decode("utf-8", "replace"),
            self._headers.get("content-type"),
        )
        self._handler.begin(self._part)

    def _part_end(self) -> None:
        assert self._part is not None, "python-multipart ends a part only after its headers"
        self._handler.end(self._part)

    def _end(self) -> None:
        self.ended = True
