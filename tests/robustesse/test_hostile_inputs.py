"""Hostile deposits: each gets a clear 4xx problem+json, leaves nothing stored, and the service stays healthy."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from harness.campaign.environment import Environment
from harness.foundations.asp_client import AspClient
from tests.conftest import PDF, metadonnees
from tests.helpers import assert_problem

BOUNDARY = "frontiere"


def multipart(*parts: tuple[str, str | None, bytes], boundary: str = BOUNDARY) -> bytes:
    """A multipart/form-data body of `(name, filename, content)` parts, written by hand (no client fixes it)."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def metadata_part(raw: bytes) -> tuple[str, None, bytes]:
    return ("metadonnees", None, raw)


def document(filename: str = "piece.pdf", content: bytes = PDF) -> tuple[str, str, bytes]:
    return ("document", filename, content)


def valid_metadata(**fields: object) -> bytes:
    return json.dumps(metadonnees(**fields)).encode()


def stored(env: Environment) -> tuple[set[str], int]:
    """The deposit folders on disk and the deposit rows in the store."""
    folder = env.titulaire.settings.data_dir / "depots"
    folders = {p.name for p in folder.iterdir()} if folder.exists() else set()
    count = env.titulaire.store.count_deposits()
    return folders, count


@pytest.fixture
def untouched(env: Environment, client: AspClient) -> Iterator[None]:
    """The test leaves the store and the disk as it found them, and the service answers its health check."""
    before = stored(env)
    yield
    assert stored(env) == before
    assert client.health().status_code == 200


def post(
    client: AspClient, body: bytes, content_type: str = f"multipart/form-data; boundary={BOUNDARY}"
) -> httpx.Response:
    return client.http.post("/v1/depots", content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(valid_metadata(donneesMetier={"montant": float("nan")}), id="nan"),
        pytest.param(valid_metadata(donneesMetier={"montant": float("inf")}), id="infinity"),
        pytest.param(valid_metadata(donneesMetier={"montant": float("-inf")}), id="minus-infinity"),
        pytest.param(b'{"donneesMetier": {"a": NaN}}', id="bare-nan"),
    ],
)
def test_values_json_cannot_carry_are_refused_at_the_door(client: AspClient, untouched: None, raw: bytes) -> None:
    response = post(client, multipart(metadata_part(raw), document()))
    assert_problem(response, 422, "metadonnees-invalides")


def nested(depth: int) -> bytes:
    return (
        b'{"applicationSource":"T","identifiantDossier":"D","numeroIteration":1,"donneesMetier":'
        + (b'{"a":' * depth + b"1" + b"}" * depth)
        + b"}"
    )


@pytest.mark.parametrize("depth", [100, 990, 5000])
def test_deeply_nested_metadata_is_refused(client: AspClient, untouched: None, depth: int) -> None:
    response = post(client, multipart(metadata_part(nested(depth)), document()))
    assert_problem(response, 422, "metadonnees-invalides")


def test_a_lone_surrogate_is_refused(client: AspClient, untouched: None) -> None:
    raw = valid_metadata().replace(b'"DOS-', b'"\\ud800DOS-')
    response = post(client, multipart(metadata_part(raw), document()))
    assert_problem(response, 422, "metadonnees-invalides")


def test_metadata_that_is_not_utf8_is_refused(client: AspClient, untouched: None) -> None:
    raw = valid_metadata().replace(b'"DOS-', b'"\xff\xfeDOS-')
    response = post(client, multipart(metadata_part(raw), document()))
    assert_problem(response, 400, "requete-invalide")


def test_a_boundary_longer_than_the_rfc_allows_is_refused(client: AspClient, untouched: None) -> None:
    boundary = "b" * 300
    body = multipart(metadata_part(valid_metadata()), document(), boundary=boundary)
    response = post(client, body, f"multipart/form-data; boundary={boundary}")
    assert_problem(response, 400, "requete-invalide")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"", "multipart/form-data", id="missing-boundary"),
        pytest.param(b"", 'multipart/form-data; boundary=""', id="empty-boundary"),
        pytest.param(b"{}", "application/json", id="not-multipart"),
        pytest.param(b"--x\r\nnot a part", "multipart/form-data; boundary=x", id="garbage"),
        pytest.param(multipart(metadata_part(valid_metadata()), document())[:-20], None, id="truncated"),
    ],
)
def test_malformed_bodies_are_refused(
    client: AspClient, untouched: None, body: bytes, content_type: str | None
) -> None:
    response = post(client, body, content_type or f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code in (400, 415)
    assert response.headers["content-type"] == "application/problem+json"


def test_a_duplicated_metadata_part_is_refused(client: AspClient, untouched: None) -> None:
    raw = valid_metadata()
    response = post(client, multipart(metadata_part(raw), metadata_part(raw), document()))
    assert_problem(response, 400, "requete-invalide")


def test_an_unexpected_part_is_refused(client: AspClient, untouched: None) -> None:
    response = post(client, multipart(metadata_part(valid_metadata()), ("autre", None, b"x"), document()))
    assert_problem(response, 400, "requete-invalide")


@pytest.mark.parametrize("filename", ["../../etc/passwd", "/etc/passwd", "..\\..\\win.ini", "a\x00b.pdf", "..", ""])
def test_path_like_file_names_never_leave_the_deposit_folder(
    env: Environment, client: AspClient, filename: str
) -> None:
    response = post(client, multipart(metadata_part(valid_metadata()), document(filename)))
    if response.status_code == 202:
        folder = env.titulaire.deposit_directory(response.json()["idDepot"])
        assert [p.parent for p in folder.iterdir()] == [folder]
    else:
        assert_problem(response, 400, "requete-invalide")


def test_a_nul_in_a_file_name_is_not_stored(env: Environment, client: AspClient) -> None:
    response = post(client, multipart(metadata_part(valid_metadata()), document("a\x00b.pdf")))
    if response.status_code == 202:
        stored_names = [d.name for d in env.titulaire.store.documents(response.json()["idDepot"])]
        assert all("\x00" not in name for name in stored_names)
    else:
        assert_problem(response, 400, "requete-invalide")


def test_an_idempotency_key_reused_with_another_body_is_refused(client: AspClient) -> None:
    key = "cle-robustesse"
    first = client.http.post(
        "/v1/depots",
        content=multipart(metadata_part(valid_metadata()), document()),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Idempotency-Key": key},
    )
    assert first.status_code == 202
    second = client.http.post(
        "/v1/depots",
        content=multipart(metadata_part(valid_metadata()), document(content=b"autre")),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Idempotency-Key": key},
    )
    assert_problem(second, 409, "cle-idempotence-reutilisee")


def test_too_many_parts_are_refused_before_they_are_written(
    env: Environment, client: AspClient, untouched: None
) -> None:
    parts = env.titulaire.settings.limits.parts
    body = multipart(metadata_part(valid_metadata()), *[document(f"p{i}.pdf", b"x") for i in range(parts)])
    assert_problem(post(client, body), 413, "transaction-trop-volumineuse")


def test_a_file_name_longer_than_the_limit_is_refused(env: Environment, client: AspClient, untouched: None) -> None:
    name = "n" * (env.titulaire.settings.limits.file_name_length + 1)
    assert_problem(post(client, multipart(metadata_part(valid_metadata()), document(name))), 400, "requete-invalide")


@pytest.mark.parametrize("header", ["X-Recette-Run", "X-Recette-Motif"])
def test_billing_tags_longer_than_the_limit_are_refused(
    env: Environment, client: AspClient, untouched: None, header: str
) -> None:
    tag = "t" * (env.titulaire.settings.limits.tag_length + 1)
    response = client.http.post(
        "/v1/depots",
        content=multipart(metadata_part(valid_metadata()), document()),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", header: tag},
    )
    assert_problem(response, 400, "parametre-invalide")
