"""The campaign's judgement of returns: it must catch what is wrong, not only pass what is right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from harness.conformance import SentDeposit, TrackedDeposit, judge
from harness.conformance.returns import METADATA, PIECES, RECEIVED, SINGLE, Defect
from harness.foundations.asp_client import Document
from tests.builders import PIECE_CONTENT, iso, valid_piece, valid_retour

DOCUMENT = Document("a.pdf", PIECE_CONTENT, "application/pdf")
META = {"applicationSource": "A", "identifiantDossier": "D", "numeroIteration": 2, "referenceContrat": "C"}
R1, R2 = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
D1 = "00000000-0000-4000-8000-0000000000d1"
DEPOSIT = TrackedDeposit(D1, datetime(2026, 11, 2, 9, 0, tzinfo=UTC), "test", SentDeposit.of(META, [DOCUMENT]))


def call(id_retour: str = R1, redelivery: bool = False, **changes: Any) -> dict[str, Any]:
    retour = valid_retour(idRetour=id_retour, idDepot=D1, metadonnees=dict(META)) | changes
    return {
        "idRetour": id_retour,
        "idAcquittement": f"ack-{id_retour}",
        "recuLe": iso(DEPOSIT.accepted_at + timedelta(seconds=1)),
        "statutHttp": 202,
        "violations": [],
        "redelivery": redelivery,
        "retour": retour,
    }


def verify(calls: list[dict[str, Any]], metadonnees: dict[str, Any] = META) -> list[Defect]:
    return judge(TrackedDeposit(D1, DEPOSIT.accepted_at, "test", SentDeposit.of(metadonnees, [DOCUMENT])), calls)


def test_a_single_faithful_return_passes() -> None:
    first = call()
    assert verify([first, first | {"redelivery": True}]) == []


def test_two_different_returns_fail() -> None:
    defects = verify([call(R1), call(R2)])
    assert Defect(SINGLE, f"2 retour(s) différent(s) ({R1}, {R2}), 2 acquitté(s)") in defects


def test_no_return_fails() -> None:
    assert verify([]) == [Defect(RECEIVED, "aucun retour acquitté sur 0 appel(s) reçu(s)")]


def test_a_changed_metadata_field_fails() -> None:
    changed = call(metadonnees=META | {"numeroIteration": 1})
    assert verify([changed]) == [Defect(METADATA, "« numeroIteration » modifié : 1 au lieu de 2")]


def test_a_missing_metadata_field_fails() -> None:
    missing = call(metadonnees={k: v for k, v in META.items() if k != "referenceContrat"})
    assert verify([missing]) == [Defect(METADATA, "« referenceContrat » absent du retour")]


def test_a_wrong_piece_hash_and_a_second_flagged_return_fail() -> None:
    wrong = call(pieces=[valid_piece(empreinte={"algorithme": "SHA-256", "valeur": "0" * 64})])
    flagged = call(R2) | {"statutHttp": 409, "violations": ["retour-multiple"], "idAcquittement": None}
    assert {d.rule for d in verify([wrong, flagged])} == {PIECES, SINGLE}


def test_metadata_are_compared_as_json_values() -> None:
    assert (
        verify([call(metadonnees=META | {"donneesMetier": {"montant": 2.0}})], META | {"donneesMetier": {"montant": 2}})
        == []
    )
    sent = META | {"donneesMetier": {"ok": True}}
    assert [d.rule for d in verify([call(metadonnees=META | {"donneesMetier": {"ok": 1}})], sent)] == [METADATA]


def test_a_default_written_out_or_left_out_is_the_same_metadata() -> None:
    assert verify([call(metadonnees=META | {"sae": False})]) == []
    assert verify([call()], META | {"sae": False}) == []
    assert METADATA in {d.rule for d in verify([call(metadonnees=META | {"sae": True})])}
