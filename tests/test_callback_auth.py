"""OAuth 2.0 on the ASP callback API: the mock demands a Bearer token bound to the titulaire's certificate,
and the reference titulaire obtains, caches and presents it (tls_client_auth, RFC 8705)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.campaign.environment import CALLBACK_AUDIENCE, Environment
from harness.foundations.servers import BackgroundServer
from harness.foundations.tls import CertificatePair, RunCertificates, certificate_subject, certificate_thumbprint
from harness.foundations.token_verifier import TokenVerifier
from harness.foundations.tokens import ClientCredentials, ClientCredentialsAuth
from harness.reference.service import Titulaire
from harness.reference.settings import ReferenceSettings
from mocks.asp import JOURNAL_FILE, ReturnRecorder
from mocks.asp import create_app as create_callback_app
from mocks.oidc import Issuer, RegisteredClient
from mocks.oidc import create_app as create_issuer_app
from tests.builders import valid_retour
from tests.conftest import metadonnees, pdf
from tests.test_returns import wait_for_status

RETOURS = "/v1/retours"


@dataclass
class Callback:
    """A mock ASP callback demanding tokens, its issuer, and the certificates of the run."""

    url: str
    issuer: Issuer
    certs: RunCertificates
    recorder: ReturnRecorder

    def http(self, pair: CertificatePair, auth: httpx.Auth | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=self.certs.client_context(pair), auth=auth, timeout=10)

    def titulaire_auth(self) -> ClientCredentialsAuth:
        credentials = ClientCredentials(f"{self.issuer.url}/token", "titulaire", scopes=("retours:ecrire",))
        return ClientCredentialsAuth(credentials, self.certs.client_context(self.certs.titulaire_client))

    def bearer(self, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue('titulaire', **claims)}"}


@pytest.fixture(scope="module")
def callback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callback]:
    certs = RunCertificates.create(tmp_path_factory.mktemp("tls"))
    subject = certificate_subject(certs.titulaire_client.cert.read_bytes())
    client = RegisteredClient("titulaire", "", ("retours:ecrire",), CALLBACK_AUDIENCE, tls_subject=subject)
    issuer = Issuer([client])
    recorder = ReturnRecorder(tmp_path_factory.mktemp("asp") / JOURNAL_FILE)
    with BackgroundServer(create_issuer_app(issuer), certs.server_context(), "oidc") as issuer_server:
        issuer.url = issuer_server.url
        context = certs.client_context(certs.asp_client)
        verifier = TokenVerifier(issuer.url, CALLBACK_AUDIENCE, context, realm="asp")
        app = create_callback_app(recorder, inspectors={certs.recette_thumbprint()}, verifier=verifier)
        with BackgroundServer(app, certs.server_context(), "asp-callback") as server:
            yield Callback(server.url, issuer, certs, recorder)


@pytest.fixture(autouse=True)
def clean(callback: Callback) -> Iterator[None]:
    yield
    with callback.http(callback.certs.recette_client) as http:
        http.delete("/_inspection/pannes").raise_for_status()
        http.delete("/_inspection/retours").raise_for_status()


def journal(callback: Callback) -> list[dict[str, Any]]:
    with callback.http(callback.certs.recette_client) as http:
        response = http.get("/_inspection/retours")
    assert response.status_code == 200  # the inspection window: the recette team's certificate
    return response.json()


def test_the_titulaire_s_bound_token_gets_the_return_acknowledged(callback: Callback) -> None:
    with callback.http(callback.certs.titulaire_client, callback.titulaire_auth()) as http:
        response = http.post(RETOURS, json=valid_retour())

    assert response.status_code == 202, response.text
    [call] = journal(callback)
    assert (call["statutHttp"], call["valide"], call["idAcquittement"]) == (
        202,
        True,
        response.json()["idAcquittement"],
    )
    assert callback.issuer.auth_methods["tls_client_auth"] >= 1


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "authentification-requise"),
        ({"Authorization": "Basic dGl0dWxhaXJlOg=="}, 401, "authentification-requise"),
        ("autre-audience", 401, "jeton-invalide"),
        ("portee-insuffisante", 403, "droits-insuffisants"),
    ],
    ids=["sans-jeton", "basic", "autre-audience", "portee-insuffisante"],
)
def test_a_return_without_a_valid_token_is_refused_and_recorded(
    callback: Callback, headers: Any, status: int, code: str
) -> None:
    if headers == "autre-audience":
        headers = callback.bearer(aud="https://titulaire.recette.local")
    elif headers == "portee-insuffisante":
        headers = callback.bearer(scopes=["depots:lire"])
    retour = valid_retour()

    with callback.http(callback.certs.titulaire_client) as http:
        response = http.post(RETOURS, json=retour, headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.headers["www-authenticate"].startswith('Bearer realm="asp"')
    [call] = journal(callback)
    assert (call["statutHttp"], call["valide"], call["violations"]) == (status, False, [code])
    assert call["idDepot"] == retour["idDepot"]
    assert call["idAcquittement"] is None


def test_a_token_bound_to_the_titulaire_is_refused_over_another_certificate(callback: Callback) -> None:
    thumbprint = certificate_thumbprint(callback.certs.titulaire_client.cert.read_bytes())
    headers = callback.bearer(cnf={"x5t#S256": thumbprint})

    with callback.http(callback.certs.asp_client) as http:
        response = http.post(RETOURS, json=valid_retour(), headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "jeton-invalide"


def test_a_refused_call_does_not_use_up_an_armed_fault(callback: Callback) -> None:
    with callback.http(callback.certs.recette_client) as inspection:
        inspection.post("/_inspection/pannes", json={"type": "erreur-500", "nombre": 1}).raise_for_status()
    with callback.http(callback.certs.titulaire_client) as anonymous:
        assert anonymous.post(RETOURS, json=valid_retour()).status_code == 401
    with callback.http(callback.certs.titulaire_client, callback.titulaire_auth()) as http:
        assert http.post(RETOURS, json=valid_retour()).status_code == 500


# -- the embedded environment wires both sides -----------------------------------------------------------


def test_the_reference_titulaire_sends_its_returns_with_a_cached_bound_token(env: Environment) -> None:
    before = env.issuer.tokens_issued["titulaire"]
    with env.asp_client() as client, env.inspector() as inspector:
        deposits = [client.deposit(metadonnees(), [pdf()]).json()["idDepot"] for _ in range(2)]
        for id_depot in deposits:
            wait_for_status(client, id_depot, "ACQUITTE")
        calls = [call for id_depot in deposits for call in inspector.received(id_depot)]

    assert [call["statutHttp"] for call in calls] == [202, 202]
    assert env.issuer.tokens_issued["titulaire"] - before <= 1  # obtained once, then cached
    assert env.issuer.auth_methods["tls_client_auth"] >= 1


def test_the_state_lists_the_asp_clients_only(env: Environment) -> None:
    clients = env.state()["oauth"]["clients"]

    assert [client["client_id"] for client in clients] == ["asp-recette", "asp-lecture"]
    assert {tuple(client["scopes"]) for client in clients} == {("depots:ecrire", "depots:lire"), ("depots:lire",)}


# -- settings of the titulaire's callback client ---------------------------------------------------------


def test_callback_credentials_round_trip_and_the_secret_stays_out_of_repr(tmp_path: Path) -> None:
    settings = ReferenceSettings(
        data_dir=tmp_path,
        callback_url="https://asp.example/v1/retours",
        callback_token_url="https://idp.asp.example/token",
        callback_client_id="titulaire-x",
        callback_client_secret="s3cr3t-du-titulaire",
    )

    again = ReferenceSettings.from_json(settings.to_json())

    assert again == settings
    assert again.callback_scopes == ("retours:ecrire",)
    assert "s3cr3t-du-titulaire" not in repr(settings)


def test_a_callback_token_url_needs_a_client_id(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="callback_client_id"):
        ReferenceSettings(data_dir=tmp_path, callback_url="https://asp.example", callback_token_url="https://idp/token")


def test_with_a_secret_the_titulaire_s_callback_client_uses_client_secret_basic(
    callback: Callback, tmp_path: Path
) -> None:
    secret_client = RegisteredClient("titulaire-secret", "s3cr3t:+é", ("retours:ecrire",), CALLBACK_AUDIENCE)
    callback.issuer.clients[secret_client.client_id] = secret_client
    certs = callback.certs
    settings = ReferenceSettings(
        data_dir=tmp_path,
        callback_url=callback.url + RETOURS,
        ca_file=certs.ca,
        client_cert=certs.titulaire_client.cert,
        client_key=certs.titulaire_client.key,
        callback_token_url=f"{callback.issuer.url}/token",
        callback_client_id=secret_client.client_id,
        callback_client_secret=secret_client.client_secret,
    )
    titulaire = Titulaire(settings)
    before = callback.issuer.auth_methods["client_secret_basic"]

    async def deliver() -> str:
        client = titulaire._callback_client()
        try:
            return (await client.deliver(valid_retour())).ack_id
        finally:
            await client.aclose()

    try:
        ack_id = asyncio.run(deliver())
    finally:
        titulaire.store.close()

    assert ack_id
    assert callback.issuer.auth_methods["client_secret_basic"] == before + 1
    assert callback.issuer.tokens_issued[secret_client.client_id] == 1
