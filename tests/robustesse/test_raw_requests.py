"""Requests no well-behaved client sends, written on the socket: stalled or slow bodies, oversized heads,
lying Content-Length, both Content-Length and Transfer-Encoding. Each gets a 400 problem+json, frees what it
held, and leaves the service healthy."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from harness.campaign.environment import Environment
from harness.reference.settings import IntakeLimits
from tests.conftest import StartEnvironment, metadonnees, pdf
from tests.robustesse.test_hostile_inputs import BOUNDARY, document, metadata_part, multipart

BODY = multipart(metadata_part(json.dumps(metadonnees()).encode()), document())


def bearer(env: Environment) -> str:
    verify = env.certs.client_context(env.certs.asp_client)
    credentials = env.credentials()
    response = httpx.post(
        env.token_url,
        data={"grant_type": "client_credentials"},
        auth=(credentials.client_id, credentials.client_secret),
        verify=verify,
    )
    return str(response.json()["access_token"])


@contextmanager
def connection(env: Environment) -> Iterator[ssl.SSLSocket]:
    port = int(env.titulaire_url.rsplit(":", 1)[1])
    context = env.certs.client_context(env.certs.asp_client)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        yield tls


def head(env: Environment, *headers: str) -> bytes:
    lines = ["POST /v1/depots HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {bearer(env)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(tls: ssl.SSLSocket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the response (read to its Content-Length, or to the close)."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = tls.recv(65536)
        assert chunk, f"connection closed before any answer: {received!r}"
        received += chunk
    raw_head, body = received.split(b"\r\n\r\n", 1)
    status_line, *lines = raw_head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = tls.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def assert_400_problem(tls: ssl.SSLSocket) -> dict[str, object]:
    status, headers, body = answer(tls)
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == "requete-invalide"
    return problem


def multipart_head(env: Environment, length: int) -> bytes:
    return head(env, f"Content-Type: multipart/form-data; boundary={BOUNDARY}", f"Content-Length: {length}")


def test_stalled_uploads_are_dropped_and_free_their_slots(new_environment: StartEnvironment) -> None:
    limits = IntakeLimits(idle_seconds=0.5)
    env = new_environment(limits=limits, max_concurrent_deposits=2)
    with connection(env) as first, connection(env) as second:
        for tls in (first, second):
            tls.sendall(multipart_head(env, len(BODY)) + BODY[:100])  # then nothing more
        for tls in (first, second):
            assert "0.5 s" in str(assert_400_problem(tls)["detail"])
    with env.asp_client() as client:
        assert client.deposit(metadonnees(), [pdf()]).status_code == 202
    assert env.titulaire.store.count_deposits() == 1


def test_a_body_trickled_past_the_upload_time_is_refused(new_environment: StartEnvironment) -> None:
    env = new_environment(limits=IntakeLimits(idle_seconds=5, upload_seconds=1))
    with connection(env) as tls:
        tls.sendall(multipart_head(env, len(BODY)))
        for byte in BODY:  # one byte every 50 ms, until the server answers
            tls.sendall(bytes([byte]))
            if select.select([tls], [], [], 0.05)[0]:
                break
        problem = assert_400_problem(tls)
    assert "1 s" in str(problem["detail"])
    assert env.titulaire.store.count_deposits() == 0


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([f"X-Bourrage: {'a' * 200_000}"], id="one-huge-header"),
        pytest.param([f"X-Bourrage-{i}: {'a' * 1000}" for i in range(80)], id="head-over-the-bytes"),
        pytest.param([f"X-E-{i}: a" for i in range(150)], id="too-many-headers"),
    ],
)
def test_oversized_heads_are_refused(env: Environment, headers: list[str]) -> None:
    with connection(env) as tls:
        request = head(env, *headers, f"Content-Type: multipart/form-data; boundary={BOUNDARY}", "Content-Length: 0")
        with contextlib.suppress(OSError):  # the server may close before the whole head is written, having answered
            tls.sendall(request)
        assert "limite" in str(assert_400_problem(tls)["detail"])


def test_content_length_and_transfer_encoding_together_are_refused(env: Environment) -> None:
    with connection(env) as tls:
        tls.sendall(
            head(
                env,
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
                "Content-Length: 10",
                "Transfer-Encoding: chunked",
            )
            + b"0\r\n\r\n"
        )
        assert_400_problem(tls)


def test_a_content_length_higher_than_the_body_times_out(new_environment: StartEnvironment) -> None:
    env = new_environment(limits=IntakeLimits(idle_seconds=0.5))
    with connection(env) as tls:
        tls.sendall(multipart_head(env, len(BODY) + 1000) + BODY)
        assert_400_problem(tls)
    assert env.titulaire.store.count_deposits() == 0


def test_a_content_length_lower_than_the_body_reads_only_what_it_declares(env: Environment) -> None:
    before = env.titulaire.store.count_deposits()
    with connection(env) as tls:
        tls.sendall(multipart_head(env, len(BODY) - 30) + BODY)
        status, headers, _body = answer(tls)
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert env.titulaire.store.count_deposits() == before
