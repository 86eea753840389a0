"""Simulated recognition (RAD/LAD): detect a document's type from its content and read a few fields.

Deterministic: the same bytes always give the same type and the same extracted data. Only the first
bytes of a document are read (its header), never the whole file.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Recognition:
    """What was recognized on one document (pièce)."""

    kind: str
    """typeDetecte: PDF, JPEG, PNG, TIFF, TEXTE or INCONNU."""
    fields: dict[str, Any]
    """donneesExtraites."""


def recognize(path: Path) -> Recognition:
    with path.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    for kind, detect in _DETECTORS:
        fields = detect(head)
        if fields is not None:
            return Recognition(kind, fields)
    return Recognition("INCONNU", {})


def _pdf(head: bytes) -> dict[str, Any] | None:
    match = re.match(rb"%PDF-(\d\.\d)", head)
    if not match:
        return None
    return {"versionPdf": match.group(1).decode(), "pagesDeclarees": len(re.findall(rb"/Type\s*/Page\b", head))}


def _png(head: bytes) -> dict[str, Any] | None:
    if not head.startswith(b"\x89PNG\r\n\x1a\n") or len(head) < 24:
        return None
    width, height = struct.unpack(">II", head[16:24])
    return {"largeurPixels": width, "hauteurPixels": height}


def _jpeg(head: bytes) -> dict[str, Any] | None:
    if not head.startswith(b"\xff\xd8\xff"):
        return None
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = head.find(marker)
        if at != -1 and len(head) >= at + 9:
            height, width = struct.unpack(">HH", head[at + 5 : at + 9])
            return {"largeurPixels": width, "hauteurPixels": height}
    return {}


def _tiff(head: bytes) -> dict[str, Any] | None:
    if head[:4] == b"II*\x00":
        return {"ordreOctets": "little-endian"}
    if head[:4] == b"MM\x00*":
        return {"ordreOctets": "big-endian"}
    return None


def _text(head: bytes) -> dict[str, Any] | None:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text or any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return None
    lines = text.splitlines()
    return {"premiereLigne": lines[0][:200] if lines else "", "lignes": len(lines), "mots": len(text.split())}


_DETECTORS = (("PDF", _pdf), ("PNG", _png), ("JPEG", _jpeg), ("TIFF", _tiff), ("TEXTE", _text))
