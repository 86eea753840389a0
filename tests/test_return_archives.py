"""The ASP's reader of return archives (canal archive de retour), on a real deposit server: a titulaire publishes
`sortant/<id>.retour.zip` over SFTP or FTPS, the ASP records its `retour.json` in the journal of returns (the
callback API's, judged by the same rule), acknowledges it in `entrant/`, and records a bad one as evidence."""

from __future__ import annotations

import asyncio
import io
import json
import os
import ssl
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.foundations.archive_convention import (
    ACK_SCHEMA,
    RETURN_FILE,
    ack_name,
    notice_name,
    return_archive,
    return_archive_name,
    schema_errors,
)
from harness.foundations.tls import RunCertificates, client_context
from harness.reference.archives.remote import session
from harness.reference.settings import ArchiveSettings
from mocks.asp import ReturnRecorder
from mocks.depot import DepositServer
from mocks.depot.journal import RENAME, Exchange
from mocks.depot.returns import EVIDENCE_FOLDER, MISNAMED, NOT_AGREED, UNREADABLE
from mocks.depot.sftp import LOOPBACK
from tests.builders import valid_piece, valid_retour

USER = "titulaire-retours"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> RunCertificates:
    return RunCertificates.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def depot(tmp_path: Path, certs: RunCertificates) -> Iterator[DepositServer]:
    with DepositServer(tmp_path / "depot", certs.ca, certs.server, (USER, certs.titulaire_client)) as server:
        yield server


@pytest.fixture
def recorder(tmp_path: Path, depot: DepositServer) -> ReturnRecorder:
    recorder = ReturnRecorder(tmp_path / "asp" / "journal-retours.jsonl")
    depot.read_returns(recorder, agreed=True)
    return recorder


def dossier_return(**overrides: Any) -> dict[str, Any]:
    return valid_retour(modeEchange="DOSSIER", pieces=[valid_piece(nom="pieces/facture.pdf")], **overrides)


def notified(depot: DepositServer, archive_id: str, id_depot: str) -> None:
    """The titulaire's notice of the archive (as it publishes it before its return), written straight in its space."""
    notice = {"identifiantArchive": archive_id, "statut": "ACCEPTEE", "idDepot": id_depot}
    (depot.space() / "sortant" / notice_name(archive_id)).write_text(json.dumps(notice), encoding="utf-8")


def publish(depot: DepositServer, certs: RunCertificates, name: str, content: bytes, protocol: str = "sftp") -> None:
    """What a titulaire does: publish `sortant/<name>` atomically (temporary name, then rename)."""
    access = depot.access
    port = depot.sftp_port if protocol == "sftp" else depot.ftps_port
    settings = ArchiveSettings(protocol, LOOPBACK, port, access.user, access.key, depot.known_hosts, access.password)
    tls: ssl.SSLContext = client_context(certs.ca, certs.titulaire_client)

    async def put() -> None:
        async with session(settings, tls) as remote:
            await remote.publish("/sortant", name, content)

    asyncio.run(put())
    assert depot.returns is not None
    depot.returns.wait_idle()


def encoded(retour: dict[str, Any]) -> bytes:
    return json.dumps(retour).encode()


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in entries.items():
            bundle.writestr(name, content)
    return buffer.getvalue()


def ack_of(depot: DepositServer, archive_id: str) -> dict[str, Any] | None:
    path = depot.space() / "entrant" / ack_name(archive_id)
    return json.loads(path.read_bytes()) if path.exists() else None


@pytest.mark.parametrize("protocol", ["sftp", "ftps"])
def test_a_return_archive_is_recorded_like_a_posted_return_and_acknowledged_in_entrant(
    depot: DepositServer, recorder: ReturnRecorder, certs: RunCertificates, protocol: str
) -> None:
    retour = dossier_return()
    notified(depot, "ARCHIVE-1", retour["idDepot"])
    publish(depot, certs, return_archive_name("ARCHIVE-1"), return_archive(encoded(retour)), protocol)
    [call] = recorder.returns_for(retour["idDepot"])
    assert (call["canal"], call["valide"], call["retour"], call["redelivery"]) == ("archive", True, retour, False)
    ack = ack_of(depot, "ARCHIVE-1")
    assert ack is not None
    assert not schema_errors(ACK_SCHEMA, ack)
    assert (ack["idAcquittement"], ack["idRetour"], ack["idDepot"]) == (
        call["idAcquittement"],
        retour["idRetour"],
        retour["idDepot"],
    )
    evidence = sorted((depot.root / EVIDENCE_FOLDER).iterdir())
    assert [p.read_bytes() for p in evidence] == [return_archive(encoded(retour))]
    assert not str(evidence[0]).startswith(str(depot.space()))  # out of the titulaire's chroot


def test_the_same_return_archive_republished_is_a_redelivery_with_the_same_acknowledgement(
    depot: DepositServer, recorder: ReturnRecorder, certs: RunCertificates
) -> None:
    retour = dossier_return()
    notified(depot, "ARCHIVE-2", retour["idDepot"])
    publish(depot, certs, return_archive_name("ARCHIVE-2"), return_archive(encoded(retour)))
    (depot.space() / "entrant" / ack_name("ARCHIVE-2")).unlink()  # the titulaire removed it once read
    publish(depot, certs, return_archive_name("ARCHIVE-2"), return_archive(encoded(retour)))
    first, again = recorder.returns_for(retour["idDepot"])
    assert (again["redelivery"], again["idAcquittement"]) == (True, first["idAcquittement"])
    assert ack_of(depot, "ARCHIVE-2") == {**_ack(first), "idDepot": retour["idDepot"]}


def _ack(call: dict[str, Any]) -> dict[str, Any]:
    return {"idAcquittement": call["idAcquittement"], "idRetour": call["idRetour"], "recuLe": call["recuLe"]}


def test_a_second_different_return_archive_is_a_multiple_return_left_unacknowledged(
    depot: DepositServer, recorder: ReturnRecorder, certs: RunCertificates
) -> None:
    retour = dossier_return()
    notified(depot, "ARCHIVE-3", retour["idDepot"])
    publish(depot, certs, return_archive_name("ARCHIVE-3"), return_archive(encoded(retour)))
    (depot.space() / "entrant" / ack_name("ARCHIVE-3")).unlink()
    other = {**retour, "idRetour": dossier_return()["idRetour"]}
    publish(depot, certs, return_archive_name("ARCHIVE-3"), return_archive(encoded(other)))
    calls = recorder.entries(retour["idDepot"])
    assert [c["violations"] for c in calls] == [[], ["retour-multiple"]]
    assert calls[1]["idAcquittement"] is None
    assert ack_of(depot, "ARCHIVE-3") is None


BAD_ARCHIVES = {
    "pas un zip": (b"PK\x03\x04 tronque", UNREADABLE),
    "sans retour.json": (zipped({"resultat.json": b"{}"}), UNREADABLE),
    "une entrée de trop": (zipped({RETURN_FILE: b"{}", "pieces/scan.pdf": b"%PDF"}), UNREADABLE),
    "bombe de décompression": (zipped({RETURN_FILE: b" " * 5_000_000}), UNREADABLE),
    "retour.json illisible": (return_archive(b"{pas du json"), "retour-invalide"),
    "retour du mode API": (return_archive(encoded(valid_retour())), "modeEchange"),
}


@pytest.mark.parametrize("case", BAD_ARCHIVES, ids=list(BAD_ARCHIVES))
def test_a_bad_return_archive_is_recorded_as_evidence_unacknowledged_and_the_next_one_is_read(
    depot: DepositServer, recorder: ReturnRecorder, certs: RunCertificates, case: str
) -> None:
    content, violation = BAD_ARCHIVES[case]
    id_depot = dossier_return()["idDepot"]
    notified(depot, "ARCHIVE-4", id_depot)
    publish(depot, certs, return_archive_name("ARCHIVE-4"), content)
    [bad] = recorder.entries()
    if bad["retour"] is None:  # judged for the deposit its notice names, even when it names none itself
        assert bad["idDepot"] == id_depot
    assert (bad["canal"], bad["valide"], bad["idAcquittement"]) == ("archive", False, None)
    assert any(violation in v for v in bad["violations"]), bad["violations"]
    assert "sortant/ARCHIVE-4.retour.zip" in bad["detail"]
    assert ack_of(depot, "ARCHIVE-4") is None
    retour = dossier_return()
    notified(depot, "ARCHIVE-5", retour["idDepot"])
    publish(depot, certs, return_archive_name("ARCHIVE-5"), return_archive(encoded(retour)))
    assert ack_of(depot, "ARCHIVE-5") is not None


def assert_refused_alone(recorder: ReturnRecorder, depot: DepositServer, archive_id: str, violation: str) -> None:
    """The one call recorded has `violation` first, and the archive got no acknowledgement."""
    [call] = recorder.entries()
    assert call["violations"][0].startswith(violation)
    assert ack_of(depot, archive_id) is None


def test_a_return_archive_named_for_another_archive_is_refused(
    depot: DepositServer, recorder: ReturnRecorder, certs: RunCertificates
) -> None:
    retour = dossier_return()
    notified(depot, "ARCHIVE-6", dossier_return()["idDepot"])  # the notice gave another idDepot
    publish(depot, certs, return_archive_name("ARCHIVE-6"), return_archive(encoded(retour)))
    assert_refused_alone(recorder, depot, "ARCHIVE-6", MISNAMED)


def test_a_return_archive_on_a_channel_not_agreed_is_a_violation(
    tmp_path: Path, depot: DepositServer, certs: RunCertificates
) -> None:
    recorder = ReturnRecorder(tmp_path / "journal.jsonl")
    depot.read_returns(recorder, agreed=False)
    retour = dossier_return()
    notified(depot, "ARCHIVE-7", retour["idDepot"])
    publish(depot, certs, return_archive_name("ARCHIVE-7"), return_archive(encoded(retour)))
    assert_refused_alone(recorder, depot, "ARCHIVE-7", NOT_AGREED)


def test_a_temporary_file_or_a_notice_is_not_read_as_a_return(
    depot: DepositServer, recorder: ReturnRecorder, certs: RunCertificates
) -> None:
    publish(depot, certs, notice_name("ARCHIVE-8"), b"{}")
    assert depot.returns is not None
    depot.returns.observe(depot.journal.entries(USER)[-1])  # a rename to a notice: not a return archive
    depot.returns.wait_idle()
    assert recorder.entries() == []


def test_a_symbolic_link_published_as_a_return_archive_is_recorded_never_followed(
    depot: DepositServer, recorder: ReturnRecorder, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.zip"
    secret.write_bytes(return_archive(encoded(dossier_return())))
    outbound = depot.space() / "sortant"
    (outbound / ".ARCHIVE-9.retour.zip.part").symlink_to(secret)
    os.rename(outbound / ".ARCHIVE-9.retour.zip.part", outbound / return_archive_name("ARCHIVE-9"))
    assert depot.returns is not None
    depot.returns.observe(Exchange("SFTP", USER, RENAME, "/sortant/.x", cible="/sortant/ARCHIVE-9.retour.zip"))
    depot.returns.wait_idle()
    [call] = recorder.entries()
    assert call["violations"][0].startswith(UNREADABLE)
    assert list((depot.root / EVIDENCE_FOLDER).iterdir()) == []
