"""Builders of valid exchange documents (a `Retour` of `contracts/asp-callback/v1`), for any test to reuse."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

PIECE_CONTENT = b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n%%EOF\n"


def iso(moment: datetime) -> str:
    """An aware datetime as ISO 8601 in UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def valid_piece(**overrides: Any) -> dict[str, Any]:
    """A valid ResultatPiece (fresh uid), with `overrides` replacing its fields."""
    piece: dict[str, Any] = {
        "uid": str(uuid.uuid4()),
        "nom": "piece.pdf",
        "typeDetecte": "PDF",
        "tailleOctets": len(PIECE_CONTENT),
        "empreinte": {"algorithme": "SHA-256", "valeur": hashlib.sha256(PIECE_CONTENT).hexdigest()},
        "donneesExtraites": {"nature": "justificatif"},
        "controles": [{"code": "format", "libelle": "Format de fichier reconnu", "resultat": "CONFORME"}],
    }
    return piece | overrides


def valid_retour(**overrides: Any) -> dict[str, Any]:
    """A valid Retour (fresh idRetour and idDepot, API mode, one piece), with `overrides` replacing its fields."""
    now = datetime.now(UTC)
    retour: dict[str, Any] = {
        "idRetour": str(uuid.uuid4()),
        "idDepot": str(uuid.uuid4()),
        "modeEchange": "API",
        "metadonnees": {
            "applicationSource": "TESTS",
            "identifiantDossier": f"DOS-{uuid.uuid4().hex[:8]}",
            "numeroIteration": 1,
            "donneesMetier": {"nature": "justificatif"},
        },
        "statut": "TRAITE",
        "pieces": [valid_piece()],
        "recuLe": iso(now - timedelta(seconds=2)),
        "traiteLe": iso(now - timedelta(seconds=1)),
        "envoyeLe": iso(now),
    }
    return retour | overrides
