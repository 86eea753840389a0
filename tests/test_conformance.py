"""Callback conformance: deposits tracked as sent, and each return judged against both contracts and its deposit."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from harness.conformance import DepositLedger, ReturnJudge, SentDeposit, TrackedDeposit, judge, read_deposit
from harness.conformance.returns import (
    DELAY,
    METADATA,
    PIECES,
    RECEIVED,
    SAME_DEPOSIT,
    SCHEMA_ASP,
    SCHEMA_TITULAIRE,
    SINGLE,
    max_return_delay,
)

DOCUMENT = b"%PDF-1.7 contenu"
META = {"applicationSource": "A", "identifiantDossier": "D", "numeroIteration": 2, "donneesMetier": {"k": [1]}}
ACCEPTED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DEPOSIT = TrackedDeposit(
    str(uuid.uuid4()), ACCEPTED, "test", SentDeposit(META, [hashlib.sha256(DOCUMENT).hexdigest()], [])
)
MINUTE = timedelta(minutes=1)


def retour(id_retour: str = "7d1a3f30-55a8-4a0e-8f43-3a8d1b7c2f10", **changes: Any) -> dict[str, Any]:
    """A Retour valid against both contracts, for DEPOSIT."""
    piece = {
        "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, "piece")),
        "nom": "a.pdf",
        "typeDetecte": "PDF",
        "tailleOctets": len(DOCUMENT),
        "empreinte": {"algorithme": "SHA-256", "valeur": hashlib.sha256(DOCUMENT).hexdigest()},
        "donneesExtraites": {},
        "controles": [],
    }
    instant = "2026-11-02T09:00:01.000000Z"
    body = {
        "idRetour": id_retour,
        "idDepot": DEPOSIT.id_depot,
        "modeEchange": "API",
        "metadonnees": dict(META),
        "statut": "TRAITE",
        "pieces": [piece],
        "recuLe": instant,
        "traiteLe": instant,
        "envoyeLe": instant,
    }
    return body | changes


def call(body: dict[str, Any], acknowledged: bool = True, redelivery: bool = False, **fields: Any) -> dict[str, Any]:
    """One call as the mock's inspection shows it."""
    return {
        "idDepot": body.get("idDepot"),
        "idRetour": body.get("idRetour"),
        "recuLe": "2026-11-02T09:00:02Z",
        "redelivery": redelivery,
        "panne": None,
        "idAcquittement": str(uuid.uuid4()) if acknowledged else None,
        "retour": body,
    } | fields


def rules(calls: list[dict[str, Any]], deposit: TrackedDeposit = DEPOSIT) -> set[str]:
    return {d.rule for d in judge(deposit, calls, MINUTE)}


# -- judging one deposit -----------------------------------------------------------------------------


def test_one_faithful_return_and_its_identical_redelivery_conform() -> None:
    assert judge(DEPOSIT, [call(retour()), call(retour(), redelivery=True)], MINUTE) == []


def test_a_return_off_the_schema_fails_both_contracts() -> None:
    defects = judge(DEPOSIT, [call(retour(modeEchange="FAX"))], MINUTE)
    assert {d.rule for d in defects} == {SCHEMA_TITULAIRE, SCHEMA_ASP}
    assert all("modeEchange" in d.detail for d in defects)


def test_a_second_different_return_breaks_the_single_return_rule() -> None:
    second = retour("0c8e1f77-2b8e-4d86-9a3e-4f0d7c4f5c21")
    assert rules([call(retour()), call(second, acknowledged=False)]) == {SINGLE}


def test_a_redelivery_with_another_content_breaks_the_single_return_rule() -> None:
    assert rules([call(retour()), call(retour(statut="REJETE"), acknowledged=False)]) == {SINGLE}


def test_every_metadata_field_is_echoed_unchanged() -> None:
    missing = {k: v for k, v in META.items() if k != "donneesMetier"}
    defects = judge(DEPOSIT, [call(retour(metadonnees=missing | {"numeroIteration": 3}))], MINUTE)
    assert [str(d) for d in defects] == [
        f"{METADATA} : « donneesMetier » absent du retour",
        f"{METADATA} : « numeroIteration » modifié : 3 au lieu de 2",
    ]


def test_the_pieces_match_the_documents_sent() -> None:
    piece = retour()["pieces"][0] | {"empreinte": {"algorithme": "SHA-256", "valeur": "0" * 64}}
    assert rules([call(retour(pieces=[piece]))]) == {PIECES}


def test_a_return_for_another_deposit_does_not_count() -> None:
    assert rules([call(retour(idDepot=str(uuid.uuid4())))]) == {SAME_DEPOSIT}


def test_a_late_return_breaks_the_service_contract_delay() -> None:
    late = call(retour(), recuLe=(ACCEPTED + 2 * MINUTE).isoformat())
    assert [str(d).split(" : ")[0] for d in judge(DEPOSIT, [late], MINUTE)] == [DELAY]


def test_no_acknowledged_return_is_a_missing_return() -> None:
    assert rules([]) == {RECEIVED}
    assert rules([call(retour(), acknowledged=False, panne="erreur-503")]) == {RECEIVED}


def test_an_unreadable_deposit_is_judged_without_its_content() -> None:
    unread = TrackedDeposit(DEPOSIT.id_depot, ACCEPTED, "test", None)
    assert (
        rules(
            [call(retour(metadonnees={"applicationSource": "B", "identifiantDossier": "X", "numeroIteration": 1}))],
            unread,
        )
        == set()
    )


def test_the_maximum_delay_is_the_service_contracts() -> None:
    assert max_return_delay() == timedelta(minutes=5)


# -- waiting for the returns of a ledger -------------------------------------------------------------


class Inspector:
    def __init__(self, calls: list[dict[str, Any]]) -> None:
        self.calls = calls

    def received(self, id_depot: str | None = None) -> list[dict[str, Any]]:
        return list(self.calls)


def ledger_of(deposit: TrackedDeposit) -> DepositLedger:
    ledger = DepositLedger()
    ledger.record(deposit)
    return ledger


def test_a_deposit_whose_deliveries_the_asp_refused_on_purpose_is_excused() -> None:
    refused = [call(retour(), acknowledged=False, panne="erreur-503") for _ in range(3)]
    judge_ = ReturnJudge(Inspector(refused), {DEPOSIT.id_depot: "ECHEC"}.get, settle_seconds=0)  # type: ignore[arg-type]
    [verdict] = judge_.verdicts(ledger_of(DEPOSIT))
    assert verdict.conforming
    assert "panne armée côté ASP" in (verdict.excused or "")


def test_a_deposit_still_without_a_return_after_the_delay_fails() -> None:
    recent = TrackedDeposit(DEPOSIT.id_depot, datetime.now(UTC), "test", DEPOSIT.sent)
    judge_ = ReturnJudge(
        Inspector([]),  # type: ignore[arg-type]
        lambda _: "TRAITE",
        max_delay=timedelta(seconds=0.3),
        settle_seconds=0,
        poll_seconds=0.05,
    )
    [verdict] = judge_.verdicts(ledger_of(recent))
    assert verdict.rules() == {RECEIVED}
    assert verdict.excused is None


# -- tracking the deposits as sent -------------------------------------------------------------------


def deposit_request(metadata: bytes = b'{"a": 1}', extra: list[Any] | None = None) -> httpx.Request:
    files = [
        ("metadonnees", (None, metadata, "application/json")),
        ("document", ("a.pdf", DOCUMENT, "application/pdf")),
    ]
    return httpx.Request("POST", "https://titulaire.test/v1/depots", files=files + (extra or []))


def test_a_deposit_body_is_read_back() -> None:
    request = deposit_request(extra=[("document", ("b.txt", b"", "text/plain"))])
    sent = read_deposit(request.read(), request.headers["content-type"])
    assert sent == SentDeposit(
        {"a": 1},
        [hashlib.sha256(DOCUMENT).hexdigest(), hashlib.sha256(b"").hexdigest()],
        ["metadonnees", "document", "document"],
    )


def test_a_body_that_is_not_a_deposit_reads_as_nothing() -> None:
    assert read_deposit(b"{}", "application/json") is None
    assert read_deposit(b"pas un multipart", "multipart/form-data; boundary=x") is None
    assert read_deposit(b"--x\r\ntronque", "multipart/form-data; boundary=x") == SentDeposit(None, [], [])


def test_unparsable_metadata_are_kept_as_unknown() -> None:
    request = deposit_request(b"{pas du json")
    sent = read_deposit(request.read(), request.headers["content-type"])
    assert sent is not None
    assert sent.metadonnees is None
    assert len(sent.digests) == 1


def answer(request: httpx.Request, status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), request=request)


def test_the_ledger_observes_accepted_deposits_only_once() -> None:
    ledger = DepositLedger(origin="scénario 1")
    request = deposit_request()
    request.read()
    ledger.observe(answer(request, 202, {"idDepot": "d1"}))
    ledger.observe(answer(request, 202, {"idDepot": "d1"}))  # a replay with the same Idempotency-Key
    ledger.observe(answer(request, 422, {"code": "metadonnees-invalides"}))
    ledger.observe(answer(httpx.Request("GET", "https://titulaire.test/v1/depots/d1"), 200, {"idDepot": "d1"}))
    [deposit] = ledger.deposits()
    assert (deposit.id_depot, deposit.origin, deposit.sent and deposit.sent.metadonnees) == (
        "d1",
        "scénario 1",
        {"a": 1},
    )


def test_a_streamed_deposit_is_tracked_without_its_content() -> None:
    ledger = DepositLedger()
    request = httpx.Request("POST", "https://titulaire.test/v1/depots", content=iter([b"--x"]))
    ledger.observe(answer(request, 202, {"idDepot": "d2"}))
    assert [(d.id_depot, d.sent) for d in ledger.deposits()] == [("d2", None)]
