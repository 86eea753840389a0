"""Controls applied to each document (pièce) once recognized, and the deposit's verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.reference.recognition import Recognition

CONFORME = "CONFORME"
NON_CONFORME = "NON_CONFORME"


@dataclass(frozen=True)
class Control:
    """One control result (contrôle)."""

    code: str
    label: str
    passed: bool
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "code": self.code,
            "libelle": self.label,
            "resultat": CONFORME if self.passed else NON_CONFORME,
        }
        if self.detail:
            result["detail"] = self.detail
        return result


def control_document(recognition: Recognition, size: int) -> list[Control]:
    """The controls every document goes through."""
    return [
        Control(
            "FORMAT_RECONNU",
            "Le format du document est reconnu",
            recognition.kind != "INCONNU",
            None if recognition.kind != "INCONNU" else "format non reconnu",
        ),
        Control("DOCUMENT_NON_VIDE", "Le document n'est pas vide", size > 0),
    ]


def control_sae(metadata: dict[str, Any], deposit_digest: str) -> Control | None:
    """With the SAE option, the hash given by the ASP must match the documents (checked again here)."""
    if not metadata.get("sae"):
        return None
    expected = metadata.get("empreinte", {}).get("valeur")
    return Control("EMPREINTE_SAE", "L'empreinte fournie concorde avec les documents", expected == deposit_digest)


def rejection_reason(controls: list[Control]) -> str | None:
    """None when every control passed, else the reason given in the return (motifRejet)."""
    failed = sorted({c.code for c in controls if not c.passed})
    return f"Contrôles non conformes : {', '.join(failed)}" if failed else None
