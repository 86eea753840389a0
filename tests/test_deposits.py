"""POST /v1/depots and its siblings, over HTTPS + mutual TLS + OAuth2: every status the contract promises."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.campaign.environment import Environment
from harness.foundations.asp_client import AspClient, DepositBody, Document
from tests.conftest import PDF, StartEnvironment, metadonnees, pdf
from tests.helpers import assert_problem

PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}


def stored_deposits(env: Environment) -> set[str]:
    folder = env.titulaire.settings.data_dir / "depots"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_deposit_gets_202_a_unique_id_and_a_receipt(client: AspClient) -> None:
    body = DepositBody(metadonnees(), [pdf()])
    first = client.send_body(body)
    second = client.send_body(body)
    assert first.status_code == second.status_code == 202
    receipt = first.json()
    assert receipt["idDepot"] != second.json()["idDepot"]
    assert uuid.UUID(receipt["idDepot"]).version == 4
    assert first.headers["location"] == f"/v1/depots/{receipt['idDepot']}"
    assert receipt["statut"] == "RECU"
    assert receipt["tailleOctets"] == body.size
    assert receipt["empreinte"] == {"algorithme": "SHA-256", "valeur": hashlib.sha256(PDF).hexdigest()}


def test_the_deposit_hash_covers_every_document_in_order(client: AspClient) -> None:
    documents = [Document("a.txt", b"premier "), Document("b.txt", b"second")]
    receipt = client.deposit(metadonnees(), documents).json()
    assert receipt["empreinte"]["valeur"] == hashlib.sha256(b"premier second").hexdigest()


def test_the_state_tells_the_whole_history(client: AspClient, inspector) -> None:
    id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
    calls = inspector.wait_for_return(id_depot)
    for _ in range(50):
        state = client.state(id_depot).json()
        if state["statut"] == "ACQUITTE":
            break
        threading.Event().wait(0.1)
    assert [e["statut"] for e in state["historique"]] == ["RECU", "EN_TRAITEMENT", "TRAITE", "RETOURNE", "ACQUITTE"]
    assert state["retour"]["idRetour"] == calls[0]["idRetour"]
    assert state["retour"]["tentatives"] == 1
    assert "idAcquittement" in state["retour"]


def test_unknown_and_malformed_ids(client: AspClient) -> None:
    assert_problem(client.state(str(uuid.uuid4())), 404, "depot-inconnu")
    assert_problem(client.resend(str(uuid.uuid4())), 404, "depot-inconnu")
    body = assert_problem(client.state("pas-un-uuid"), 400, "parametre-invalide")
    assert body["erreurs"][0]["emplacement"] == "path.idDepot"


def test_unknown_routes_answer_problem_json(client: AspClient) -> None:
    assert_problem(client.http.get("/v1/inconnu"), 404, "ressource-inconnue")
    assert_problem(client.http.delete("/v1/depots"), 405, "methode-non-autorisee")


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (b"{}", "application/json", "type-media-non-supporte"),
        (b"--x\r\nnot a part", "multipart/form-data; boundary=x", "requete-invalide"),
        (b"anything", "multipart/form-data", "requete-invalide"),
    ],
)
def test_bad_bodies_are_refused_and_leave_nothing(
    env: Environment, client: AspClient, content: bytes, content_type: str, code: str
) -> None:
    before = stored_deposits(env)
    response = client.http.post("/v1/depots", content=content, headers={"Content-Type": content_type})
    assert_problem(response, 415 if code == "type-media-non-supporte" else 400, code)
    assert stored_deposits(env) == before


def test_missing_parts_are_refused(env: Environment, client: AspClient) -> None:
    before = stored_deposits(env)
    assert_problem(client.deposit(metadonnees(), []), 400, "requete-invalide")
    no_metadata = httpx.Request("POST", "https://x/", files=[("document", ("a.pdf", PDF, "application/pdf"))])
    response = client.http.post("/v1/depots", content=no_metadata.read(), headers=dict(no_metadata.headers))
    assert "metadonnees" in assert_problem(response, 400, "requete-invalide")["detail"]
    assert stored_deposits(env) == before


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"numeroIteration": 0}, "numeroIteration"),
        ({"applicationSource": ""}, "applicationSource"),
        ({"champInconnu": 1}, "champInconnu"),
        ({"sae": True}, "metadonnees"),
    ],
)
def test_invalid_metadata_gets_422_with_details(env: Environment, client: AspClient, fields: dict, where: str) -> None:
    before = stored_deposits(env)
    body = assert_problem(client.deposit(metadonnees(**fields), [pdf()]), 422, "metadonnees-invalides")
    assert any(where in f"{e['emplacement']} {e['message']}" for e in body["erreurs"]), body["erreurs"]
    assert stored_deposits(env) == before


def test_sae_hash_must_match_the_documents(env: Environment, client: AspClient) -> None:
    good = {"algorithme": "SHA-256", "valeur": hashlib.sha256(PDF).hexdigest()}
    assert client.deposit(metadonnees(sae=True, empreinte=good), [pdf()]).status_code == 202
    before = stored_deposits(env)
    bad = {"algorithme": "SHA-256", "valeur": hashlib.sha256(b"autre chose").hexdigest()}
    body = assert_problem(
        client.deposit(metadonnees(sae=True, empreinte=bad), [pdf()]), 422, "empreinte-non-concordante"
    )
    assert body["empreinteCalculee"] == good
    assert stored_deposits(env) == before


def test_idempotency_key_replays_the_same_deposit_and_refuses_another(env: Environment, client: AspClient) -> None:
    key = str(uuid.uuid4())
    meta = metadonnees()
    first = client.deposit(meta, [pdf()], idempotency_key=key)
    replay = client.deposit(meta, [pdf()], idempotency_key=key)
    assert first.status_code == replay.status_code == 202
    assert replay.json() == first.json()
    before = stored_deposits(env)
    other = client.deposit(meta, [pdf(content=PDF + b"% modifie\n")], idempotency_key=key)
    assert assert_problem(other, 409, "cle-idempotence-reutilisee")["idDepot"] == first.json()["idDepot"]
    assert stored_deposits(env) == before


def test_calls_need_a_token_and_the_right_scope(env: Environment) -> None:
    verify = env.certs.client_context(env.certs.asp_client)
    with AspClient(env.titulaire_url, verify, major=env.current_major()) as anonymous:
        response = anonymous.deposit(metadonnees(), [pdf()])
        assert_problem(response, 401, "authentification-requise")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert_problem(anonymous.health(), 401, "authentification-requise")
    with env.asp_client("asp-lecture") as reader:
        assert reader.health().status_code == 200
        assert_problem(reader.deposit(metadonnees(), [pdf()]), 403, "droits-insuffisants")


def test_a_client_without_certificate_cannot_connect(env: Environment) -> None:
    with (
        pytest.raises(httpx.TransportError),  # TLS 1.3: refused at handshake or at first read
        httpx.Client(verify=env.certs.client_context(None)) as no_cert,
    ):
        no_cert.get(f"{env.titulaire_url}/v1/sante").raise_for_status()


class HeldUpload:
    """A chunked deposit that sends its first bytes, then waits until released."""

    def __init__(self, client: AspClient) -> None:
        self.release = threading.Event()
        self.sent_first = threading.Event()
        self.response: httpx.Response | None = None
        self._body = DepositBody(metadonnees(), [pdf()])
        self._client = client
        self._thread = threading.Thread(target=self._send)

    def _chunks(self) -> Iterator[bytes]:
        content = self._body.content()
        yield content[:100]
        self.sent_first.set()
        self.release.wait(10)
        yield content[100:]

    def _send(self) -> None:
        headers = {"Content-Type": self._body.content_type}
        self.response = self._client.http.post("/v1/depots", content=self._chunks(), headers=headers)

    def __enter__(self) -> HeldUpload:
        self._thread.start()
        assert self.sent_first.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self._thread.join(10)


def test_too_many_deposits_at_once_get_429(new_environment: StartEnvironment) -> None:
    env = new_environment(max_concurrent_deposits=1)
    with env.asp_client() as held_client, env.asp_client() as client:
        with HeldUpload(held_client) as held:
            threading.Event().wait(0.3)  # let the held upload reach the server and take the only slot
            response = client.deposit(metadonnees(), [pdf()])
            assert_problem(response, 429, "trop-de-requetes")
            assert response.headers["retry-after"] == "1"
        assert held.response is not None
        assert held.response.status_code == 202
        assert client.deposit(metadonnees(), [pdf()]).status_code == 202


def test_an_unexpected_error_is_a_500_that_leaks_nothing(
    new_environment: StartEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = new_environment()

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"disk exploded at {Path(__file__)}")

    monkeypatch.setattr(env.titulaire.store, "add_deposit", broken)
    with env.asp_client() as client:
        body = assert_problem(client.deposit(metadonnees(), [pdf()]), 500, "erreur-interne")
    text = str(body)
    assert "RuntimeError" not in text
    assert "Traceback" not in text
    assert "/" + "tests" not in text
    assert stored_deposits(env) == set()


def test_a_stopping_service_answers_503(new_environment: StartEnvironment) -> None:
    env = new_environment()
    env.titulaire.accepting = False
    with env.asp_client() as client:
        response = client.deposit(metadonnees(), [pdf()])
        assert_problem(response, 503, "service-indisponible")
        assert response.headers["retry-after"] == "1"
        assert_problem(client.health(), 503, "service-indisponible")


def test_the_contract_is_served_as_written(client: AspClient) -> None:
    response = client.http.get("/v1/openapi.yaml")
    assert response.status_code == 200
    assert response.text.startswith("openapi: 3.0.3")
