"""The mock ASP callback API, served for real over HTTPS with mutual TLS on loopback."""

from __future__ import annotations

import base64
import hashlib
import json
import smtplib
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from starlette.requests import Request
from starlette.responses import JSONResponse

from harness.foundations.contracts import ASP_CALLBACK_V1, ContractRequest, ContractResponse, openapi
from harness.foundations.servers import BackgroundServer
from harness.foundations.tls import RECETTE_IDENTITY, RECETTE_TEAM, CertificatePair, RunCertificates, write_pair
from harness.foundations.token_verifier import TokenVerifier
from mocks.asp import JOURNAL_FILE, ReturnRecorder, create_app
from mocks.asp.recorder import ReceivedCall, Verdict
from mocks.asp.validation import ContractDrift, check_response
from mocks.smtp import SmtpCatcher
from tests.builders import valid_piece, valid_retour
from tests.helpers import assert_problem, wait_until

RETOURS = "/v1/retours"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> RunCertificates:
    return RunCertificates.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> ReturnRecorder:
    return ReturnRecorder(tmp_path_factory.mktemp("asp") / JOURNAL_FILE)


@pytest.fixture(scope="module")
def server(certs: RunCertificates, recorder: ReturnRecorder) -> Iterator[BackgroundServer]:
    app = create_app(recorder, inspectors={certs.recette_thumbprint()})
    with BackgroundServer(app, certs.server_context(), "asp-callback") as running:
        yield running


@pytest.fixture
def inspection(server: BackgroundServer, certs: RunCertificates) -> Iterator[httpx.Client]:
    """The recette team's side: its own client certificate, the only one the inspection routes accept."""
    with httpx.Client(base_url=server.url, verify=certs.client_context(certs.recette_client), timeout=10) as http:
        yield http


@pytest.fixture
def client(server: BackgroundServer, certs: RunCertificates, inspection: httpx.Client) -> Iterator[httpx.Client]:
    """The titulaire's side: its client certificate, and a clean mock (no fault armed, journal marked)."""
    verify = certs.client_context(certs.titulaire_client)
    with httpx.Client(base_url=server.url, verify=verify, timeout=10) as http:
        yield http
        inspection.delete("/_inspection/pannes").raise_for_status()
        inspection.delete("/_inspection/retours").raise_for_status()


def received(inspection: httpx.Client, id_depot: str | None = None) -> list[dict[str, Any]]:
    response = inspection.get("/_inspection/retours", params={"idDepot": id_depot} if id_depot else {})
    assert response.status_code == 200
    return response.json()


def arm(inspection: httpx.Client, **fault: Any) -> None:
    response = inspection.post("/_inspection/pannes", json=fault)
    assert response.status_code == 201, response.text


def assert_contract_valid_ack(response: httpx.Response) -> dict[str, Any]:
    """The 202 answer is an Acquittement as the contract describes it (checked here, not by the mock)."""
    assert response.status_code == 202, response.text
    request = ContractRequest(ASP_CALLBACK_V1, "POST", RETOURS, body=response.request.content)
    answered = ContractResponse(202, response.content, response.headers["content-type"])
    openapi(ASP_CALLBACK_V1).validate_response(request.for_openapi(), answered)
    return response.json()


# -- the normal exchange ---------------------------------------------------------------------------------


def test_a_valid_return_is_acknowledged_and_recorded(
    client: httpx.Client, recorder: ReturnRecorder, inspection: httpx.Client
) -> None:
    retour = valid_retour()
    before = datetime.now(UTC)
    ack = assert_contract_valid_ack(client.post(RETOURS, json=retour))
    assert ack["idRetour"] == retour["idRetour"]
    received_at = datetime.fromisoformat(ack["recuLe"])
    assert received_at.utcoffset() is not None
    assert received_at.utcoffset().total_seconds() == 0
    assert received_at >= before.replace(microsecond=0)
    [call] = received(inspection, retour["idDepot"])
    assert call["idDepot"] == retour["idDepot"]
    assert call["idRetour"] == retour["idRetour"]
    assert call["valide"] is True
    assert call["violations"] == []
    assert call["redelivery"] is False
    assert call["statutHttp"] == 202
    assert call["panne"] is None
    assert call["idAcquittement"] == ack["idAcquittement"]
    assert call["retour"] == retour
    assert recorder.returns_for(retour["idDepot"]) == [call]


def test_a_redelivery_gets_the_same_acknowledgement(
    client: httpx.Client, recorder: ReturnRecorder, inspection: httpx.Client
) -> None:
    retour = valid_retour()
    first = assert_contract_valid_ack(client.post(RETOURS, json=retour))
    again = assert_contract_valid_ack(client.post(RETOURS, json=retour))
    assert again == first
    calls = received(inspection, retour["idDepot"])
    assert [c["redelivery"] for c in calls] == [False, True]
    assert all(c["valide"] and not c["violations"] for c in calls)
    assert [c["idAcquittement"] for c in calls] == [first["idAcquittement"]] * 2
    assert len(recorder.returns_for(retour["idDepot"])) == 2


def test_a_second_different_return_for_a_deposit_is_refused(
    client: httpx.Client, recorder: ReturnRecorder, inspection: httpx.Client
) -> None:
    first = valid_retour()
    ack = assert_contract_valid_ack(client.post(RETOURS, json=first))
    second = valid_retour(idDepot=first["idDepot"], statut="REJETE", motifRejet="illisible")
    problem = assert_problem(client.post(RETOURS, json=second), 409, "retour-deja-recu")
    assert problem["idRetourRecu"] == first["idRetour"]
    calls = received(inspection, first["idDepot"])
    assert [c["violations"] for c in calls] == [[], ["retour-multiple"]]
    assert calls[1]["valide"] is False
    assert calls[1]["statutHttp"] == 409
    assert calls[1]["idAcquittement"] is None
    assert [c["idAcquittement"] for c in recorder.returns_for(first["idDepot"])] == [ack["idAcquittement"]]
    assert assert_contract_valid_ack(client.post(RETOURS, json=first)) == ack  # the first one still stands


def test_the_same_id_retour_with_another_content_is_refused(client: httpx.Client, inspection: httpx.Client) -> None:
    first = valid_retour()
    assert_contract_valid_ack(client.post(RETOURS, json=first))
    changed = first | {"pieces": [valid_piece(typeDetecte="PNG")]}
    assert_problem(client.post(RETOURS, json=changed), 409, "retour-deja-recu")
    calls = received(inspection, first["idDepot"])
    assert calls[1]["violations"] == ["retour-modifie"]
    assert calls[1]["redelivery"] is False


def test_concurrent_returns_for_one_deposit_get_exactly_one_acknowledgement(
    server: BackgroundServer, certs: RunCertificates, client: httpx.Client, inspection: httpx.Client
) -> None:
    id_depot = valid_retour()["idDepot"]
    statuses: list[int] = []
    verify = certs.client_context(certs.titulaire_client)

    def deliver() -> None:
        with httpx.Client(base_url=server.url, verify=verify, timeout=10) as http:
            statuses.append(http.post(RETOURS, json=valid_retour(idDepot=id_depot)).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202] + [409] * 7
    calls = received(inspection, id_depot)
    assert sum(1 for c in calls if c["violations"] == ["retour-multiple"]) == 7


# -- what breaks the contract ----------------------------------------------------------------------------


def _without_statut() -> dict[str, Any]:
    retour = valid_retour()
    del retour["statut"]
    return retour


@pytest.mark.parametrize(
    ("retour", "where", "words"),
    [
        pytest.param(_without_statut(), "corps.statut", "obligatoire", id="missing-field"),
        pytest.param(valid_retour(modeEchange="FAX"), "corps.modeEchange", "valeurs permises", id="bad-enum"),
        pytest.param(valid_retour(commentaire="en trop"), "corps.commentaire", "non prévue", id="extra-field"),
        pytest.param(valid_retour(idRetour="R-1"), "corps.idRetour", "format uuid", id="bad-format"),
        pytest.param(
            valid_retour(pieces=[valid_piece(tailleOctets="12")]), "corps.pieces.0.tailleOctets", "entier", id="nested"
        ),
    ],
)
def test_an_invalid_return_is_refused_with_its_errors(
    client: httpx.Client,
    recorder: ReturnRecorder,
    retour: dict[str, Any],
    where: str,
    words: str,
    inspection: httpx.Client,
) -> None:
    problem = assert_problem(client.post(RETOURS, json=retour), 422, "retour-invalide")
    [error] = problem["erreurs"]
    assert error["emplacement"] == where
    assert words in error["message"]
    [call] = received(inspection, retour["idDepot"])
    assert call["valide"] is False
    assert call["statutHttp"] == 422
    assert call["erreurs"] == problem["erreurs"]
    assert call["violations"] == [f"{where} : {error['message']}"]
    assert call["retour"] == retour
    assert recorder.returns_for(retour["idDepot"]) == []


def test_an_invalid_return_does_not_count_as_the_deposit_s_return(
    client: httpx.Client, inspection: httpx.Client
) -> None:
    retour = valid_retour()
    assert_problem(client.post(RETOURS, json=retour | {"statut": "?"}), 422, "retour-invalide")
    ack = assert_contract_valid_ack(client.post(RETOURS, json=retour))
    assert received(inspection, retour["idDepot"])[1]["idAcquittement"] == ack["idAcquittement"]


def test_unreadable_json_is_a_bad_request(client: httpx.Client, inspection: httpx.Client) -> None:
    response = client.post(RETOURS, content=b'{"idDepot": ', headers={"content-type": "application/json"})
    problem = assert_problem(response, 400, "requete-invalide")
    assert problem["erreurs"][0]["emplacement"] == "corps"
    [call] = received(inspection)
    assert call["idDepot"] is None
    assert call["retour"] is None
    assert call["corpsBrut"] == '{"idDepot": '
    assert call["valide"] is False
    assert call["statutHttp"] == 400


def test_a_missing_body_is_a_bad_request(client: httpx.Client, inspection: httpx.Client) -> None:
    assert_problem(client.post(RETOURS, headers={"content-type": "application/json"}), 400, "requete-invalide")
    assert received(inspection)[0]["statutHttp"] == 400


def test_a_wrong_content_type_is_refused(client: httpx.Client, inspection: httpx.Client) -> None:
    retour = valid_retour()
    response = client.post(RETOURS, data={"idDepot": retour["idDepot"]})
    assert_problem(response, 415, "type-media-non-supporte")
    response = client.post(RETOURS, content=httpx.Request("POST", "/", json=retour).content)  # JSON, no type
    problem = assert_problem(response, 415, "type-media-non-supporte")
    assert "application/json" in problem["erreurs"][0]["message"]
    calls = received(inspection)
    assert [c["statutHttp"] for c in calls] == [415, 415]
    assert calls[1]["idDepot"] == retour["idDepot"]  # still readable, so still traceable
    assert not calls[1]["valide"]


def test_unknown_routes_and_methods_answer_problems(client: httpx.Client, inspection: httpx.Client) -> None:
    assert_problem(client.get("/v1/inconnu"), 404, "ressource-inconnue")
    response = client.get(RETOURS)
    assert_problem(response, 405, "methode-non-autorisee")
    assert response.headers["allow"] == "POST"
    assert received(inspection) == []


# -- fault injection --------------------------------------------------------------------------------------


def test_two_server_errors_then_the_return_is_acknowledged(client: httpx.Client, inspection: httpx.Client) -> None:
    retour = valid_retour()
    arm(inspection, type="erreur-500", nombre=2)
    assert inspection.get("/_inspection/pannes").json() == [{"type": "erreur-500", "restant": 2}]
    assert_problem(client.post(RETOURS, json=retour), 500, "erreur-interne")
    assert_problem(client.post(RETOURS, json=retour), 500, "erreur-interne")
    ack = assert_contract_valid_ack(client.post(RETOURS, json=retour))
    calls = received(inspection, retour["idDepot"])
    assert [c["panne"] for c in calls] == ["erreur-500", "erreur-500", None]
    assert [c["statutHttp"] for c in calls] == [500, 500, 202]
    assert [c["redelivery"] for c in calls] == [False, False, False]  # faulted calls were not acknowledged
    assert calls[2]["idAcquittement"] == ack["idAcquittement"]
    assert all(c["idRetour"] == retour["idRetour"] and not c["violations"] for c in calls)
    assert inspection.get("/_inspection/pannes").json() == []


def test_service_unavailable_comes_with_retry_after(client: httpx.Client, inspection: httpx.Client) -> None:
    arm(inspection, type="erreur-503", reessayerApresSecondes=7)
    response = client.post(RETOURS, json=valid_retour())
    assert_problem(response, 503, "service-indisponible")
    assert response.headers["retry-after"] == "7"
    assert client.post(RETOURS, json=valid_retour()).status_code == 202


def test_faults_queue_up_in_the_order_they_were_armed(client: httpx.Client, inspection: httpx.Client) -> None:
    arm(inspection, type="erreur-503")
    arm(inspection, type="erreur-500")
    statuses = [client.post(RETOURS, json=valid_retour()).status_code for _ in range(3)]
    assert statuses == [503, 500, 202]


def test_a_delay_holds_the_answer_then_handles_the_return(client: httpx.Client, inspection: httpx.Client) -> None:
    arm(inspection, type="delai", delaiSecondes=0.4)
    started = time.monotonic()
    ack = assert_contract_valid_ack(client.post(RETOURS, json=(retour := valid_retour())))
    assert time.monotonic() - started >= 0.4
    [call] = received(inspection, retour["idDepot"])
    assert call["panne"] == "delai"
    assert call["idAcquittement"] == ack["idAcquittement"]


def test_a_delayed_return_is_acknowledged_even_when_the_client_gave_up(
    client: httpx.Client, inspection: httpx.Client
) -> None:
    retour = valid_retour()
    arm(inspection, type="delai", delaiSecondes=1.0)
    with pytest.raises(httpx.ReadTimeout):
        client.post(RETOURS, json=retour, timeout=0.2)
    [call] = wait_until(lambda: received(inspection, retour["idDepot"]), "the return recorded")
    assert call["panne"] == "delai"
    assert call["statutHttp"] == 202
    again = assert_contract_valid_ack(client.post(RETOURS, json=retour))  # the retry after the timeout
    assert again["idAcquittement"] == call["idAcquittement"]
    assert received(inspection, retour["idDepot"])[1]["redelivery"] is True


def test_a_cut_connection_gives_the_client_no_response(client: httpx.Client, inspection: httpx.Client) -> None:
    retour = valid_retour()
    arm(inspection, type="coupure")
    with pytest.raises(httpx.TransportError) as raised:
        client.post(RETOURS, json=retour)
    assert not isinstance(raised.value, httpx.TimeoutException)
    ack = assert_contract_valid_ack(client.post(RETOURS, json=retour))
    calls = received(inspection, retour["idDepot"])
    assert [c["panne"] for c in calls] == ["coupure", None]
    assert [c["statutHttp"] for c in calls] == [None, 202]
    assert calls[0]["retour"] == retour
    assert calls[0]["idAcquittement"] is None
    assert calls[1]["idAcquittement"] == ack["idAcquittement"]
    assert not calls[1]["redelivery"]


@pytest.mark.parametrize(
    ("fault", "where"),
    [
        ({"type": "panne-totale"}, "corps.type"),
        ({"type": "erreur-500", "nombre": 0}, "corps.nombre"),
        ({"type": "delai"}, "corps.delaiSecondes"),
        ({"type": "coupure", "count": 2}, "corps.count"),
    ],
)
def test_an_unknown_fault_is_refused(
    client: httpx.Client, fault: dict[str, Any], where: str, inspection: httpx.Client
) -> None:
    problem = assert_problem(inspection.post("/_inspection/pannes", json=fault), 400, "requete-invalide")
    assert where in [e["emplacement"] for e in problem["erreurs"]]
    assert inspection.get("/_inspection/pannes").json() == []


def test_clearing_faults_disarms_them(client: httpx.Client, inspection: httpx.Client) -> None:
    arm(inspection, type="coupure", nombre=5)
    assert inspection.delete("/_inspection/pannes").status_code == 204
    assert client.post(RETOURS, json=valid_retour()).status_code == 202


# -- inspection -------------------------------------------------------------------------------------------


def test_the_journal_is_filtered_by_deposit_and_clearing_only_marks_it(
    client: httpx.Client, inspection: httpx.Client, recorder: ReturnRecorder
) -> None:
    one, other = valid_retour(), valid_retour()
    acks = [client.post(RETOURS, json=retour).json() for retour in (one, other, one)]
    assert [c["idDepot"] for c in received(inspection, one["idDepot"])] == [one["idDepot"]] * 2
    assert [c["idDepot"] for c in received(inspection, other["idDepot"])] == [other["idDepot"]]
    assert received(inspection, valid_retour()["idDepot"]) == []
    assert len(received(inspection)) == 3
    lines = recorder.digest().lines
    assert inspection.delete("/_inspection/retours").status_code == 204
    assert received(inspection) == []
    assert recorder.digest().lines == lines + 1  # a mark appended, nothing erased
    everything = inspection.get("/_inspection/retours", params={"tout": "1", "idDepot": one["idDepot"]}).json()
    assert [c["idAcquittement"] for c in everything] == [acks[0]["idAcquittement"]] * 2
    again = client.post(RETOURS, json=one).json()
    assert again["idAcquittement"] == acks[0]["idAcquittement"]  # the deposit's return is not forgotten
    assert received(inspection)[0]["redelivery"] is True


INSPECTION_ROUTES = [
    ("GET", "/_inspection/retours"),
    ("DELETE", "/_inspection/retours"),
    ("GET", "/_inspection/empreinte"),
    ("GET", "/_inspection/pannes"),
    ("POST", "/_inspection/pannes"),
    ("DELETE", "/_inspection/pannes"),
    ("GET", "/_inspection/courriels"),
]


def lookalike_of_the_recette_team(certs: RunCertificates, directory: Path) -> CertificatePair:
    """A certificate of the run's own CA with every name of the recette team's: only its key differs."""
    assert certs.authority is not None
    ca = trustme.CA.from_pem(certs.authority.cert.read_bytes(), certs.authority.key.read_bytes())
    leaf = ca.issue_cert(
        RECETTE_IDENTITY, common_name=RECETTE_IDENTITY, organization_name="ASP", organization_unit_name=RECETTE_TEAM
    )
    return write_pair(leaf, directory / "sosie")


def test_only_the_pinned_recette_certificate_may_inspect(
    server: BackgroundServer, certs: RunCertificates, client: httpx.Client, tmp_path: Path
) -> None:
    assert client.post(RETOURS, json=(retour := valid_retour())).status_code == 202
    lookalike = lookalike_of_the_recette_team(certs, tmp_path)
    for pair in (certs.titulaire_client, certs.asp_client, lookalike):
        with httpx.Client(base_url=server.url, verify=certs.client_context(pair), timeout=10) as other:
            for method, path in INSPECTION_ROUTES:
                response = other.request(method, path, json={"type": "erreur-500"} if method == "POST" else None)
                assert_problem(response, 403, "acces-reserve-recette")
    with httpx.Client(base_url=server.url, verify=certs.client_context(certs.recette_client), timeout=10) as recette:
        assert [c["idDepot"] for c in received(recette)] == [retour["idDepot"]]  # nothing was cleared
        assert recette.get("/_inspection/pannes").json() == []  # nothing was armed


def test_every_app_demands_its_inspectors(recorder: ReturnRecorder) -> None:
    with pytest.raises(TypeError):
        create_app(recorder)  # type: ignore[call-arg]  # no "allow all" default


def nested(depth: int) -> bytes:
    return b'{"idDepot":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(nested(800), 400, id="800-levels"),
        pytest.param(b'{"idDepot": "\\ud800", "idRetour": "\\udfff"}', 400, id="lone-surrogates"),
        pytest.param(b'{"idDepot": "\xff\xfe"}', 400, id="invalid-utf8"),
        pytest.param(b"\x00\x01 pas du JSON", 400, id="not-json"),
    ],
)
def test_no_body_makes_the_journal_unreadable(
    client: httpx.Client, inspection: httpx.Client, recorder: ReturnRecorder, body: bytes, status: int
) -> None:
    response = client.post(RETOURS, content=body, headers={"content-type": "application/json"})
    assert_problem(response, status, "requete-invalide")
    [call] = received(inspection)
    assert call["illisible"] is True
    assert call["retour"] is None
    assert call["corpsBrut"] == body.decode("utf-8", "replace")
    assert call["tailleOctets"] == len(body)
    assert call["statutHttp"] == status
    [line] = [line for line in journal_lines(recorder) if line.get("numero") == call["numero"]]
    assert base64.b64decode(line["corpsBase64"]) == body  # the bytes exactly as received
    assert line["corpsSha256"] == hashlib.sha256(body).hexdigest()


def test_an_unauthenticated_call_with_a_lone_surrogate_leaves_the_journal_readable(
    tmp_path: Path, certs: RunCertificates
) -> None:
    recorder = ReturnRecorder(tmp_path / JOURNAL_FILE)
    verifier = TokenVerifier("https://127.0.0.1:9", "https://callback.asp.recette.local", certs.client_context(None))
    app = create_app(recorder, inspectors={certs.recette_thumbprint()}, verifier=verifier)
    with (
        BackgroundServer(app, certs.server_context()) as server,
        httpx.Client(base_url=server.url, verify=certs.client_context(certs.titulaire_client)) as titulaire,
        httpx.Client(base_url=server.url, verify=certs.client_context(certs.recette_client)) as recette,
    ):
        body = b'{"idDepot": "\\ud800"}'
        response = titulaire.post(RETOURS, content=body, headers={"content-type": "application/json"})
        assert_problem(response, 401, "authentification-requise")
        [call] = received(recette)
    assert (call["illisible"], call["corpsBrut"], call["violations"]) == (
        True,
        body.decode(),
        ["authentification-requise"],
    )


def test_a_failure_of_the_mock_is_recorded_and_answered_without_its_text(
    client: httpx.Client, inspection: httpx.Client, recorder: ReturnRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("détail-interne-secret")

    monkeypatch.setattr(recorder, "decide", broken)
    response = client.post(RETOURS, json=(retour := valid_retour()))
    assert_problem(response, 500, "erreur-interne")
    assert "détail-interne-secret" not in response.text
    [call] = received(inspection, retour["idDepot"])
    assert call["statutHttp"] == 500
    assert "détail-interne-secret" not in json.dumps(call)


def journal_lines(recorder: ReturnRecorder) -> list[dict[str, Any]]:
    return [json.loads(line) for line in recorder.journal.read_bytes().splitlines()]


def test_a_recorder_started_again_on_its_file_keeps_every_call_and_every_decision(tmp_path: Path) -> None:
    journal = tmp_path / JOURNAL_FILE
    first = ReturnRecorder(journal)
    retour = valid_retour()
    decision = first.decide(retour, datetime(2026, 12, 15, 12, tzinfo=UTC))
    call = ReceivedCall.of(datetime(2026, 12, 15, 12, tzinfo=UTC), json.dumps(retour).encode(), "application/json")
    call.status, call.ack_id = 202, decision.ack.id_acquittement
    first.record(call)
    first.record(ReceivedCall.of(datetime(2026, 12, 15, 12, 1, tzinfo=UTC), nested(800), "application/json"))
    first.clear()
    assert oct(journal.stat().st_mode & 0o777) == "0o600"

    again = ReturnRecorder(journal)
    assert again.entries() == []  # after the mark
    assert again.entries(everything=True) == first.entries(everything=True)
    assert [c["numero"] for c in again.entries(everything=True)] == [1, 2]
    other = valid_retour(idDepot=retour["idDepot"])
    assert again.decide(other, datetime(2026, 12, 15, 13, tzinfo=UTC)).verdict is Verdict.MULTIPLE
    redelivery = again.decide(retour, datetime(2026, 12, 15, 13, tzinfo=UTC))
    assert (redelivery.verdict, redelivery.ack) == (Verdict.REDELIVERY, decision.ack)


def test_the_digest_is_the_file_s_and_a_torn_line_is_kept_and_skipped(tmp_path: Path) -> None:
    journal = tmp_path / JOURNAL_FILE
    recorder = ReturnRecorder(journal)
    recorder.record(ReceivedCall.of(datetime(2026, 12, 15, 12, tzinfo=UTC), b"{}", "application/json"))
    digest = recorder.digest()
    assert digest.sha256 == hashlib.sha256(journal.read_bytes()).hexdigest()
    assert (digest.lines, digest.size_bytes) == (1, journal.stat().st_size)
    with journal.open("ab") as file:
        file.write(b'{"ligne": "appel", "numero": 2, "app')  # killed in the middle of a write
    restarted = ReturnRecorder(journal)
    assert restarted.unreadable_lines == 1
    assert len(restarted.entries()) == 1
    restarted.record(ReceivedCall.of(datetime(2026, 12, 15, 12, 2, tzinfo=UTC), b"{}", "application/json"))
    assert [c["numero"] for c in ReturnRecorder(journal).entries()] == [1, 2]  # the torn line is not a call
    assert restarted.digest().lines == 3


def test_the_digest_is_served_to_the_recette_team(
    client: httpx.Client, inspection: httpx.Client, recorder: ReturnRecorder
) -> None:
    client.post(RETOURS, json=valid_retour())
    served = inspection.get("/_inspection/empreinte").json()
    assert served == recorder.digest().to_json() | {"lignesIllisibles": 0}
    assert served["empreinte"] == hashlib.sha256(recorder.journal.read_bytes()).hexdigest()


def test_without_a_mail_source_no_mail_is_listed(client: httpx.Client, inspection: httpx.Client) -> None:
    response = inspection.get("/_inspection/courriels")
    assert response.status_code == 200
    assert response.json() == []


def test_caught_mails_are_listed_over_http(certs: RunCertificates, recorder: ReturnRecorder) -> None:
    with SmtpCatcher() as smtp:
        app = create_app(recorder, inspectors={certs.recette_thumbprint()}, mails=smtp.messages)
        message = EmailMessage()
        message["From"] = "titulaire@recette.example"
        message["To"] = "incidents@asp.example"
        message["Subject"] = "[Incident titulaire] dépôt en échec"
        message.set_content("Ticket d'incident : 42\n")
        with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as sender:
            sender.send_message(message)
        smtp.wait_for()
        with (
            BackgroundServer(app, certs.server_context()) as server,
            httpx.Client(base_url=server.url, verify=certs.client_context(certs.recette_client), timeout=10) as http,
        ):
            [mail] = http.get("/_inspection/courriels").json()
    assert mail["subject"] == "[Incident titulaire] dépôt en échec"
    assert mail["recipients"] == ["incidents@asp.example"]
    assert mail["body"] == "Ticket d'incident : 42\n"
    assert datetime.fromisoformat(mail["received_at"]).tzinfo is not None


# -- transport security -----------------------------------------------------------------------------------


def test_a_client_without_certificate_cannot_call(server: BackgroundServer, certs: RunCertificates) -> None:
    with pytest.raises(httpx.TransportError):  # TLS 1.3: the server closes right after the handshake
        httpx.post(server.url + RETOURS, json=valid_retour(), verify=certs.client_context(None))
    tls12 = certs.client_context(None)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(httpx.ConnectError) as raised:  # TLS 1.2: the handshake itself fails
        httpx.post(server.url + RETOURS, json=valid_retour(), verify=tls12)
    assert any(isinstance(error, ssl.SSLError) for error in chain(raised.value))


def chain(error: BaseException | None) -> Iterator[BaseException]:
    """An exception and the ones it was raised from."""
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def test_no_call_without_certificate_reaches_the_journal(
    server: BackgroundServer, certs: RunCertificates, client: httpx.Client, inspection: httpx.Client
) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.post(server.url + RETOURS, json=valid_retour(), verify=certs.client_context(None))
    assert received(inspection) == []


# -- the mock never drifts from its contract --------------------------------------------------------------


def test_an_answer_off_contract_is_caught() -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "server": ("127.0.0.1", 443),
        "path": RETOURS,
        "query_string": b"",
        "headers": [],
    }
    with pytest.raises(ContractDrift, match="idAcquittement"):
        check_response(Request(scope), JSONResponse({"idRetour": "pas-un-uuid"}, 202))
