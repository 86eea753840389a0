"""The ASP-side mocks under hostile input: bodies read with a limit, a bounded journal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.foundations.servers import BackgroundServer
from harness.foundations.tls import RunCertificates
from mocks.asp import JOURNAL_FILE, ReturnRecorder, create_app
from mocks.oidc import Issuer, RegisteredClient
from mocks.oidc import create_app as create_issuer_app
from tests.builders import valid_retour

RETOURS = "/v1/retours"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> RunCertificates:
    return RunCertificates.create(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture(scope="module")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> ReturnRecorder:
    return ReturnRecorder(tmp_path_factory.mktemp("asp") / JOURNAL_FILE, max_calls=3)


@pytest.fixture(scope="module")
def client(certs: RunCertificates, recorder: ReturnRecorder) -> Iterator[httpx.Client]:
    """The titulaire's client; `/_inspection` is read with the recette team's certificate (`inspection`)."""
    app = create_app(recorder, inspectors={certs.recette_thumbprint()})
    with (
        BackgroundServer(app, certs.server_context(), "asp-callback") as server,
        httpx.Client(base_url=server.url, verify=certs.client_context(certs.titulaire_client), timeout=60) as http,
    ):
        yield http


@pytest.fixture(scope="module")
def inspection(certs: RunCertificates, client: httpx.Client) -> Iterator[httpx.Client]:
    verify = certs.client_context(certs.recette_client)
    with httpx.Client(base_url=str(client.base_url), verify=verify, timeout=60) as http:
        yield http


def test_a_return_over_the_20_mb_rule_is_refused_and_recorded_as_a_violation(
    client: httpx.Client, inspection: httpx.Client
) -> None:
    body = b'{"idDepot":"' + b"x" * TRANSACTION_LIMIT_BYTES + b'"}'
    response = client.post(RETOURS, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "transaction-trop-volumineuse"
    call = inspection.get("/_inspection/retours").json()[-1]
    assert call["violations"] == ["transaction-trop-volumineuse"]
    assert call["statutHttp"] == 413


def test_the_journal_is_bounded_and_says_how_much_it_forgot(client: httpx.Client, inspection: httpx.Client) -> None:
    for _ in range(5):
        client.post(RETOURS, json=valid_retour())
    journal = inspection.get("/_inspection/retours")
    assert len(journal.json()) == 3
    assert journal.headers["x-journal-entrees"] == "3"
    assert int(journal.headers["x-journal-oubliees"]) >= 2


def test_the_issuer_refuses_a_huge_token_request_before_holding_it(tmp_path: Path) -> None:
    certs = RunCertificates.create(tmp_path / "tls")
    issuer = Issuer([RegisteredClient("asp-recette", "secret", ("depots:lire",), "https://titulaire.recette.local")])
    with (
        BackgroundServer(create_issuer_app(issuer), certs.server_context(), "oidc") as server,
        httpx.Client(base_url=server.url, verify=certs.client_context(certs.asp_client)) as http,
    ):
        issuer.url = server.url
        huge = {"grant_type": "client_credentials", "bourrage": "a" * 1_000_000}
        response = http.post("/token", data=huge, auth=("asp-recette", "secret"))
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        token = http.post("/token", data={"grant_type": "client_credentials"}, auth=("asp-recette", "secret"))
        assert token.status_code == 200
