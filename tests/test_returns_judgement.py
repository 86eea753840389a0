"""The campaign's judgement of returns: it must catch what is wrong, not only pass what is right."""

from __future__ import annotations

import hashlib
from typing import Any

from harness.conformance.returns import verify_return
from harness.foundations.asp_client import Document

DOCUMENT = Document("a.pdf", b"%PDF-1.7 contenu", "application/pdf")
META = {"applicationSource": "A", "identifiantDossier": "D", "numeroIteration": 2, "referenceContrat": "C"}


def call(id_retour: str = "r1", redelivery: bool = False, **changes: Any) -> dict[str, Any]:
    retour = {
        "idRetour": id_retour,
        "idDepot": "d1",
        "metadonnees": dict(META),
        "pieces": [{"empreinte": {"algorithme": "SHA-256", "valeur": hashlib.sha256(DOCUMENT.content).hexdigest()}}],
    } | changes
    ack = f"ack-{id_retour}"
    return {
        "idRetour": id_retour,
        "idAcquittement": ack,
        "valide": True,
        "violations": [],
        "redelivery": redelivery,
        "retour": retour,
    }


def test_a_single_faithful_return_passes() -> None:
    assert verify_return([call(), call(redelivery=True)], "d1", META, [DOCUMENT]) == []


def test_two_different_returns_fail() -> None:
    problems = verify_return([call("r1"), call("r2")], "d1", META, [DOCUMENT])
    assert "2 retour(s) acquitté(s) au lieu d'exactement un" in problems


def test_no_return_fails() -> None:
    assert verify_return([], "d1", META, [DOCUMENT]) == ["0 retour(s) acquitté(s) au lieu d'exactement un"]


def test_a_changed_metadata_field_fails() -> None:
    changed = call(metadonnees=META | {"numeroIteration": 1})
    assert any("métadonnées modifiées" in p for p in verify_return([changed], "d1", META, [DOCUMENT]))


def test_a_missing_metadata_field_fails() -> None:
    missing = call(metadonnees={k: v for k, v in META.items() if k != "referenceContrat"})
    assert any("métadonnées modifiées" in p for p in verify_return([missing], "d1", META, [DOCUMENT]))


def test_a_wrong_piece_hash_and_a_violation_fail() -> None:
    wrong = call(pieces=[{"empreinte": {"algorithme": "SHA-256", "valeur": "0" * 64}}])
    flagged = call("r2") | {"valide": False, "violations": ["retour-multiple"], "idAcquittement": None}
    problems = verify_return([wrong, flagged], "d1", META, [DOCUMENT])
    assert "empreintes des pièces différentes des documents déposés" in problems
    assert "violation : retour-multiple" in problems
