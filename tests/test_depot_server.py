"""The ASP's deposit server on its own, started for real: SFTP with key authentication only, FTPS with explicit
TLS on both channels and a client certificate, each titulaire chrooted in its space, a journal of what was
exchanged, and its faults (refused connection, transfer cut, full disk) seen by a real client."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ftplib
import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from harness.foundations.polling import wait_until
from harness.foundations.tls import RunCertificates, client_context
from harness.reference.archives.remote import RemoteError, session
from harness.reference.settings import ArchiveSettings
from mocks.depot import CUT_TRANSFER, DISK_FULL, REFUSED_CONNECTION, DepositServer, Listening
from mocks.depot.faults import CUT_AFTER_BYTES
from mocks.depot.sftp import LOOPBACK

USER = "titulaire-essai"
BIG = bytes(range(256)) * 64  # 16 KiB: longer than a cut transfer lets through


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> RunCertificates:
    return RunCertificates.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def depot(tmp_path_factory: pytest.TempPathFactory, certs: RunCertificates) -> Iterator[DepositServer]:
    with DepositServer(
        tmp_path_factory.mktemp("depot"), certs.ca, certs.server, (USER, certs.titulaire_client)
    ) as server:
        yield server


@pytest.fixture(autouse=True)
def no_faults_left(depot: DepositServer) -> Iterator[None]:
    yield
    depot.faults.clear()


def settings(depot: DepositServer, protocol: str) -> ArchiveSettings:
    access = depot.access
    port = depot.sftp_port if protocol == "sftp" else depot.ftps_port
    return ArchiveSettings(protocol, LOOPBACK, port, access.user, access.key, depot.known_hosts, access.password)


def tls(certs: RunCertificates) -> ssl.SSLContext:
    return client_context(certs.ca, certs.titulaire_client)


async def round_trip(depot: DepositServer, certs: RunCertificates, protocol: str, name: str, tmp: Path) -> bytes:
    """What a titulaire does: list `entrant/`, download `name`, publish a notice, remove the archive."""
    async with session(settings(depot, protocol), tls(certs)) as remote:
        assert name in await remote.published("/entrant")
        await remote.download(f"/entrant/{name}", tmp / name)
        await remote.publish("/sortant", f"{name}.notification.json", b"{}")
        await remote.remove(f"/entrant/{name}")
    return (tmp / name).read_bytes()


def test_a_file_gone_while_its_folder_is_listed_over_sftp_is_passed_over(
    depot: DepositServer, certs: RunCertificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    depot.put("reste.zip", b"x")
    depot.put("parti.zip", b"y")
    read_directory = os.scandir

    def taken_before_its_stat(path: Any) -> Any:
        entries = list(read_directory(path))  # the directory is read…
        for entry in entries:
            if os.fsdecode(entry.name) == "parti.zip":
                os.remove(entry.path)  # …then a file goes (taken, renamed) before the listing stats it
        return contextlib.nullcontext(entries)

    async def listed() -> list[str]:
        async with session(settings(depot, "sftp"), tls(certs)) as remote:
            return await remote.published("/entrant")

    monkeypatch.setattr(os, "scandir", taken_before_its_stat)
    names = asyncio.run(listed())
    monkeypatch.undo()

    assert "reste.zip" in names
    assert "parti.zip" not in names


@pytest.mark.parametrize("protocol", ["sftp", "ftps"])
def test_a_titulaire_takes_an_archive_and_publishes_its_notice_atomically(
    depot: DepositServer, certs: RunCertificates, protocol: str, tmp_path: Path
) -> None:
    name = f"A-{protocol}.zip"
    depot.put(name, BIG)
    assert asyncio.run(round_trip(depot, certs, protocol, name, tmp_path)) == BIG
    assert name not in depot.inbound()
    assert depot.outbound()[f"{name}.notification.json"] == b"{}"
    seen = [(e.operation, e.chemin, e.cible) for e in depot.journal.entries(USER) if e.protocole == protocol.upper()]
    temporary = f"/sortant/.{name}.notification.json.part"
    assert ("telechargement", f"/entrant/{name}", None) in seen
    assert ("renommage", temporary, f"/sortant/{name}.notification.json") in seen
    assert ("suppression", f"/entrant/{name}", None) in seen
    assert depot.journal.path.read_text(encoding="utf-8").count(name) >= 4


def test_sftp_accepts_the_titulaire_key_only(depot: DepositServer, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519")

    async def connect(**options: object) -> None:
        async with asyncssh.connect(
            LOOPBACK, depot.sftp_port, username=USER, known_hosts=str(depot.known_hosts), agent_path=None, **options
        ):
            pass

    asyncio.run(connect(client_keys=[str(depot.access.key)]))
    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(connect(client_keys=[other]))
    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(connect(client_keys=None, password=depot.access.password))


def test_sftp_keeps_the_titulaire_in_its_space(depot: DepositServer) -> None:
    async def listing() -> list[str]:
        async with session(settings(depot, "sftp"), None) as remote:
            return await remote.published("/../../..")

    assert sorted(asyncio.run(listing())) == ["entrant", "sortant"]


def test_the_state_gives_what_a_titulaire_needs_to_connect(depot: DepositServer, certs: RunCertificates) -> None:
    state = depot.state()
    assert state["sftp"] | {"port": 0} == state["sftp"] | {
        "host": LOOPBACK,
        "port": 0,
        "user": USER,
        "key": str(depot.access.key),
        "known_hosts": str(depot.known_hosts),
    }
    assert state["sftp"]["port"] == depot.sftp_port
    assert state["ftps"]["port"] == depot.ftps_port
    assert {k: state["ftps"][k] for k in ("user", "password", "ca")} == {
        "user": USER,
        "password": depot.access.password,
        "ca": str(certs.ca),
    }
    assert (state["entrant"], state["sortant"]) == ("/entrant", "/sortant")
    assert depot.access.key.stat().st_mode & 0o077 == 0


def test_ftps_refuses_a_login_before_tls(depot: DepositServer) -> None:
    ftp = ftplib.FTP()
    ftp.connect(LOOPBACK, depot.ftps_port, timeout=10)
    with pytest.raises(ftplib.error_perm, match=r"^5\d\d"):
        ftp.login(USER, depot.access.password)
    ftp.close()


def test_ftps_refuses_a_clear_data_channel(depot: DepositServer, certs: RunCertificates) -> None:
    ftp = ftplib.FTP_TLS(context=tls(certs), timeout=10)
    ftp.connect(LOOPBACK, depot.ftps_port)
    ftp.login(USER, depot.access.password)
    with pytest.raises(ftplib.error_perm, match=r"^550 SSL/TLS required on the data channel"):
        ftp.retrlines("LIST /entrant")
    ftp.close()


def test_ftps_requires_a_client_certificate(depot: DepositServer, certs: RunCertificates) -> None:
    ftp = ftplib.FTP_TLS(context=client_context(certs.ca, None), timeout=10)
    ftp.connect(LOOPBACK, depot.ftps_port)

    def login() -> None:
        ftp.login(USER, depot.access.password)
        ftp.voidcmd("NOOP")

    with pytest.raises((ssl.SSLError, OSError, EOFError, ftplib.Error)):
        login()
    ftp.close()


@pytest.mark.parametrize("protocol", ["sftp", "ftps"])
def test_a_refused_connection_is_a_remote_error_then_the_server_answers_again(
    depot: DepositServer, certs: RunCertificates, protocol: str, tmp_path: Path
) -> None:
    name = f"R-{protocol}.tar"
    depot.put(name, b"x")
    depot.faults.arm(REFUSED_CONNECTION)
    with pytest.raises(RemoteError):
        asyncio.run(round_trip(depot, certs, protocol, name, tmp_path))
    assert asyncio.run(round_trip(depot, certs, protocol, name, tmp_path)) == b"x"


@pytest.mark.parametrize("protocol", ["sftp", "ftps"])
def test_a_cut_transfer_is_a_remote_error_and_is_journaled_incomplete(
    depot: DepositServer, certs: RunCertificates, protocol: str, tmp_path: Path
) -> None:
    name = f"C-{protocol}.zip"
    depot.put(name, BIG)
    depot.faults.arm(CUT_TRANSFER)
    with pytest.raises(RemoteError):
        asyncio.run(round_trip(depot, certs, protocol, name, tmp_path))
    assert (tmp_path / name).stat().st_size <= CUT_AFTER_BYTES < len(BIG)
    cut = wait_until(  # the FTPS server journals the cut once its data channel closes, after the client's error
        lambda: [e for e in depot.journal.entries(USER) if e.chemin == f"/entrant/{name}" and not e.complet],
        "l'envoi coupé au journal du serveur de dépôt",
    )
    assert cut[0].detail == CUT_TRANSFER
    assert name in depot.inbound()


@pytest.mark.parametrize("protocol", ["sftp", "ftps"])
def test_a_full_disk_refuses_the_upload(
    depot: DepositServer, certs: RunCertificates, protocol: str, tmp_path: Path
) -> None:
    name = f"D-{protocol}.zip"
    depot.put(name, b"x")
    depot.faults.arm(DISK_FULL)
    with pytest.raises(RemoteError):
        asyncio.run(round_trip(depot, certs, protocol, name, tmp_path))
    assert f"{name}.notification.json" not in depot.outbound()
    refused = [e for e in depot.journal.entries(USER) if e.operation == "refus" and e.detail == DISK_FULL]
    assert refused


def test_a_real_platform_logs_in_with_its_own_key_and_the_agreed_password(
    tmp_path: Path, certs: RunCertificates
) -> None:
    own = asyncssh.generate_private_key("ssh-ed25519")
    own.write_private_key(str(tmp_path / "cle"))
    own.write_public_key(str(tmp_path / "cle.pub"))
    listening = Listening(authorized_key=tmp_path / "cle.pub", password="convenu-avec-le-titulaire")
    pair = (USER, certs.titulaire_client)
    with DepositServer(tmp_path / "depot", certs.ca, certs.server, pair, listening) as depot:
        assert depot.access.key is None
        assert depot.state()["sftp"]["key"] is None
        depot.put("P.zip", b"x")
        own_settings = dataclasses.replace(settings(depot, "sftp"), key=tmp_path / "cle")
        ftps_settings = settings(depot, "ftps")
        assert ftps_settings.password == "convenu-avec-le-titulaire"

        async def both() -> tuple[list[str], list[str]]:
            async with session(own_settings, None) as sftp, session(ftps_settings, tls(certs)) as ftps:
                return await sftp.published("/entrant"), await ftps.published("/entrant")

        assert asyncio.run(both()) == (["P.zip"], ["P.zip"])
        assert not (depot.root / "cles" / USER).exists()
