"""The 20 MB limit on a full transaction: request body + response body <= limit, to the byte."""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest

from harness.campaign.environment import Environment
from harness.foundations.asp_client import AspClient, DepositBody
from harness.foundations.raw_upload import EarlyAnswer, upload
from harness.reference.settings import IntakeLimits
from tests.conftest import StartEnvironment, metadonnees
from tests.helpers import assert_problem
from tests.test_deposits import stored_deposits


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_at_the_limit_accepted_one_byte_more_refused(env: Environment, client: AspClient, chunked: bool) -> None:
    limit = env.titulaire.settings.limit_bytes
    assert limit == 20_000_000
    meta = metadonnees()
    size = client.body_size_for_transaction(limit, meta)

    accepted = client.send_body(DepositBody.of_size(meta, size), chunked=chunked)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["tailleOctets"] == size
    assert size + len(accepted.content) == limit

    before = stored_deposits(env)
    refused = client.send_body(DepositBody.of_size(meta, size + 1), chunked=chunked)
    problem = assert_problem(refused, 413, "transaction-trop-volumineuse")
    assert problem["limiteOctets"] == limit
    assert "mode dossier" in problem["detail"]
    assert stored_deposits(env) == before


def test_a_client_sending_well_over_the_limit_gets_the_413_not_a_reset(env: Environment, client: AspClient) -> None:
    response = client.send_body(DepositBody.of_size(metadonnees(), 25_000_000))
    assert_problem(response, 413, "transaction-trop-volumineuse")
    assert response.headers["connection"] == "close"


def test_chunked_over_the_limit_is_refused_and_nothing_is_stored(env: Environment, client: AspClient) -> None:
    before = stored_deposits(env)
    response = client.send_body(DepositBody.of_size(metadonnees(), 25_000_000), chunked=True)
    assert_problem(response, 413, "transaction-trop-volumineuse")
    assert stored_deposits(env) == before


def bearer_token(env: Environment) -> str:
    credentials = env.credentials()
    response = httpx.post(
        credentials.token_url,
        data={"grant_type": "client_credentials"},
        auth=(credentials.client_id, credentials.client_secret),
        verify=env.certs.client_context(env.certs.asp_client),
    )
    return response.json()["access_token"]


def test_expect_100_continue_over_the_limit_gets_413_before_any_upload(env: Environment) -> None:
    """Like curl with a large body: the server answers 413 at once and never asks for the body."""
    port = int(env.titulaire_url.rsplit(":", 1)[1])
    context: ssl.SSLContext = env.certs.client_context(env.certs.asp_client)
    request = (
        "POST /v1/depots HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {bearer_token(env)}\r\n"
        "Content-Type: multipart/form-data; boundary=limite\r\n"
        "Content-Length: 200000000\r\n"
        "Expect: 100-continue\r\n\r\n"
    )
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = tls.recv(65536)
            assert chunk, "connection closed before any answer"
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in answer


def sent_by_hand(env: Environment, body: DepositBody, pieces: Iterator[bytes]) -> EarlyAnswer:
    """`body` sent to `POST /v1/depots` as `pieces` come, by a client that reads the answer between them."""
    headers = {"Authorization": f"Bearer {bearer_token(env)}", "Content-Type": body.content_type}
    verify = env.certs.client_context(env.certs.asp_client)
    return upload(
        env.titulaire_url, verify, "/v1/depots", headers, pieces, body.size, expect_continue=False, timeout_seconds=10
    )


def test_a_client_that_stops_sending_mid_body_gets_400_and_nothing_is_stored(
    new_environment: StartEnvironment,
) -> None:
    """The idle bound of the intake: several MiB already parsed and written (batches in flight on the
    intake's thread), then silence; the answer is a 400 and the partial documents are removed."""
    env = new_environment(limits=IntakeLimits(idle_seconds=0.5))
    body = DepositBody.of_size(metadonnees(), 6_000_000)
    content = body.content()

    def stalling() -> Iterator[bytes]:
        yield content[:4_000_000]
        time.sleep(1.5)
        yield content[4_000_000:]

    answer = sent_by_hand(env, body, stalling())
    assert answer.status == 400
    problem = json.loads(answer.body)
    assert problem["code"] == "requete-invalide"
    assert "pendant 0.5 s" in problem["detail"]
    assert answer.sent_before_answer == 4_000_000
    assert stored_deposits(env) == set()


def test_a_body_trickling_past_the_upload_bound_gets_400_and_nothing_is_stored(
    new_environment: StartEnvironment,
) -> None:
    """The total bound of the intake: never idle for long, but the whole body takes longer than allowed."""
    env = new_environment(limits=IntakeLimits(idle_seconds=5.0, upload_seconds=1.0))
    body = DepositBody.of_size(metadonnees(), 6_000_000)
    content = body.content()

    def trickling() -> Iterator[bytes]:
        for start in range(0, len(content), 1_000_000):
            yield content[start : start + 1_000_000]
            time.sleep(0.4)

    answer = sent_by_hand(env, body, trickling())
    assert answer.status == 400
    problem = json.loads(answer.body)
    assert problem["code"] == "requete-invalide"
    assert "reçu en 1 s" in problem["detail"]
    assert answer.before_the_whole_body
    assert stored_deposits(env) == set()
