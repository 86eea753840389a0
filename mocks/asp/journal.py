"""The journal file of the mock ASP callback: append-only JSON lines, on disk before the answer leaves.

One line per event, never rewritten nor removed (`JOURNAL_FILE` in the environment's directory):

- `{"ligne": "appel", "numero": n, "appel": {…}, "corpsBase64": "…", "corpsSha256": "…"}`: one call to
  POST /v1/retours, its body exactly as received (base64) and the inspection view of the call (the parsed
  return, the verdict, the mock's answer);
- `{"ligne": "effacement", "numero": n, "effaceLe": "…"}`: the recette team cleared the view (DELETE).

Each line is written in ASCII (JSON escapes), then flushed and fsynced. A line that cannot be read back (a
crash in the middle of a write) is kept as it is and counted; the next line starts on a line of its own.
`digest()` is what the reports cite: the SHA-256 of the file, its lines and bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JOURNAL_FILE = "journal-retours.jsonl"
READ_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class JournalDigest:
    """The empreinte of the journal file: SHA-256 of its bytes, its line count and size."""

    sha256: str
    lines: int
    size_bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"algorithme": "SHA-256", "empreinte": self.sha256, "lignes": self.lines, "octets": self.size_bytes}


class JournalFile:
    """The append-only JSON-lines file; not thread-safe (the recorder holds its lock around every call)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.unreadable_lines = 0
        """Lines read back at start-up that are not a JSON object (kept in the file, skipped in the view)."""
        self._needs_newline = self._ends_mid_line()

    def read(self) -> Iterator[dict[str, Any]]:
        """Every readable line, oldest first; the others are counted in `unreadable_lines`."""
        if not self.path.exists():
            return
        with self.path.open("rb") as file:
            for line in file:
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if isinstance(record, dict):
                    yield record
                else:
                    self.unreadable_lines += 1

    def append(self, record: dict[str, Any]) -> None:
        """Write one line and make it durable (flush, fsync) before returning; the file is created mode 600."""
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"
        if self._needs_newline:
            line = b"\n" + line
        with open(self.path, "ab", opener=_private) as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())
        self._needs_newline = False

    def digest(self) -> JournalDigest:
        """SHA-256, line count and size of the file as it is on disk."""
        sha, lines, size, last = hashlib.sha256(), 0, 0, b"\n"
        if self.path.exists():
            with self.path.open("rb") as file:
                while chunk := file.read(READ_CHUNK_BYTES):
                    sha.update(chunk)
                    lines += chunk.count(b"\n")
                    size += len(chunk)
                    last = chunk[-1:]
        return JournalDigest(sha.hexdigest(), lines + (last != b"\n"), size)

    def _ends_mid_line(self) -> bool:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return False
        with self.path.open("rb") as file:
            file.seek(-1, os.SEEK_END)
            return file.read(1) != b"\n"


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
