"""The scanned pages of a pli: a fake letter printed in a real PDF (fpdf2), and read back (pypdf).

A letter is a title and `libellé : valeur` lines: the ASP application, the dossier, the page number, then
the business data. A page without a text layer (an image-only scan) cannot be read.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF
from pypdf import PdfReader
from pypdf.errors import PyPdfError

TITLE = "PLI DE RECETTE - ASP"
APPLICATION, DOSSIER, PAGE = "Application", "Dossier", "Page"
SEPARATOR = " : "
ENCODING = "windows-1252"
"""What the core fonts print (Latin-1 and €, œ…): the CLI refuses other characters."""
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Letter:
    """What is printed on one page (and what reading it gives back)."""

    application: str
    dossier: str
    page: str
    """« n/N »."""
    data: dict[str, str] = field(default_factory=dict)
    """Business data (données métier), printed one per line."""

    def lines(self) -> list[str]:
        heading = [TITLE, f"{APPLICATION}{SEPARATOR}{self.application}", f"{DOSSIER}{SEPARATOR}{self.dossier}"]
        return [*heading, f"{PAGE}{SEPARATOR}{self.page}", *(f"{k}{SEPARATOR}{v}" for k, v in self.data.items())]


def letter_pages(application: str, dossier: str, data: Mapping[str, str], count: int) -> list[bytes]:
    """`count` pages of one letter, each a one-page PDF carrying the dossier and the business data."""
    return [write_page(Letter(application, dossier, f"{n}/{count}", dict(data))) for n in range(1, count + 1)]


def write_page(letter: Letter) -> bytes:
    """One A4 page with the letter's lines as text (Helvetica, Latin-1)."""
    pdf = _a4()
    pdf.set_font("Helvetica", size=12)
    for line in letter.lines():
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def unreadable_page() -> bytes:
    """One A4 page of strokes and no text layer: a scan nothing can be read from."""
    pdf = _a4()
    for row in range(20):
        pdf.line(20, 30 + row * 10, 190 - (row * 7) % 60, 32 + row * 10)
    return bytes(pdf.output())


def _a4() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_creation_date(FIXED_DATE)  # the same letter gives the same bytes, whatever the day
    pdf.add_page()
    return pdf


def read_page(content: bytes) -> Letter | None:
    """The letter printed on a one-page PDF; None when no letter can be read from it."""
    try:
        text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
    except (PyPdfError, ValueError, OSError):
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, found, value = line.partition(SEPARATOR)
        if found and key.strip():
            fields[key.strip()] = value.strip()
    heading = {name: fields.pop(name, "") for name in (APPLICATION, DOSSIER, PAGE)}
    if not heading[DOSSIER] or not heading[APPLICATION]:
        return None
    return Letter(heading[APPLICATION], heading[DOSSIER], heading[PAGE], fields)


def extracted(letter: Letter) -> dict[str, Any]:
    """The data read on a page, as a piece's `donneesExtraites` carries it (LAD)."""
    return {"applicationSource": letter.application, "identifiantDossier": letter.dossier, "page": letter.page} | {
        "donneesMetier": letter.data
    }
