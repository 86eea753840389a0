"""The ASP's deposit server (serveur de dépôt): SFTP and FTPS over one set of spaces, one per titulaire.

Each titulaire's space holds `entrant/` (ASP → titulaire) and `sortant/` (titulaire → ASP). The titulaire
logs in by SFTP with its key or by FTPS with its password and client certificate, chrooted in its space.
The ASP side (the harness, in this process) puts archives and reads notices straight in the spaces, reads
the journal and arms faults: the titulaire has no way to reach any of that.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import asyncssh

from harness.foundations.archive_convention import INBOUND, OUTBOUND, is_published, notice_name, temporary_name
from harness.foundations.running import Running
from harness.foundations.tls import CertificatePair
from mocks.asp.recorder import ReturnRecorder
from mocks.depot.faults import DepotFaults
from mocks.depot.ftps import DepotFtpsServer, tls_context
from mocks.depot.journal import UPLOAD, Exchange, Journal
from mocks.depot.returns import EVIDENCE_FOLDER, ReturnArchiveReader
from mocks.depot.sftp import LOOPBACK, DepotSftpServer

SSH_KEY_TYPE = "ssh-ed25519"
ASP_SIDE = "asp"
"""The journal's user name of what the ASP side puts or removes in the spaces."""


@dataclass(frozen=True)
class TitulaireAccess:
    """How a titulaire reaches its space: its SFTP key, its FTPS password and client certificate."""

    user: str
    key: Path | None
    """Its SSH private key (mode 600), made here; None for a real platform, which keeps its own."""
    password: str
    client: CertificatePair


@dataclass(frozen=True)
class Listening:
    """Where the server listens and whom it lets in: by default on loopback for a titulaire whose keys are
    made here; for a real platform, its address, ports and the credentials agreed with it."""

    host: str = LOOPBACK
    sftp_port: int = 0
    ftps_port: int = 0
    """0: a free port."""
    authorized_key: Path | None = None
    """The platform's SSH public key (OpenSSH format); None: a key pair made here."""
    client_ca: Path | None = None
    """What signs (or is) the platform's FTPS client certificate; None: the run's CA."""
    password: str | None = field(default=None, repr=False)
    """The platform's FTPS password; None: one made here."""


class DepositServer(Running):
    """Starts the SFTP and FTPS listeners on free ports over `root/<titulaire>/{entrant,sortant}`."""

    def __init__(
        self,
        root: Path,
        ca: Path,
        server_pair: CertificatePair,
        titulaire: tuple[str, CertificatePair],
        listening: Listening = Listening(),
    ) -> None:
        self.root = root
        self.listening = listening
        self._ca = ca
        self._server_pair = server_pair
        self._user, self._client = titulaire
        self.journal = Journal(root / "journal.jsonl")
        self.faults = DepotFaults()
        self._sftp: DepotSftpServer | None = None
        self._ftps: DepotFtpsServer | None = None
        self.returns: ReturnArchiveReader | None = None
        """The reader of return archives (canal archive de retour), once `read_returns` started it."""
        self.access: TitulaireAccess
        self.known_hosts: Path

    # -- lifetime ------------------------------------------------------------------------------------

    def start(self) -> Self:
        keys = self.root / "cles"
        keys.mkdir(mode=0o700, parents=True, exist_ok=True)
        space = self.space()
        for folder in (INBOUND, OUTBOUND):
            (space / folder).mkdir(parents=True, exist_ok=True)
        host_key = asyncssh.generate_private_key(SSH_KEY_TYPE)
        client_key, key_path = self._titulaire_key(keys)
        password = self.listening.password or secrets.token_urlsafe(18)
        self.access = TitulaireAccess(self._user, key_path, password, self._client)
        host = self.listening.host
        try:
            users = {self._user: (client_key, space)}
            self._sftp = DepotSftpServer(host_key, users, self.journal, self.faults, host, self.listening.sftp_port)
            self._sftp.start()
            context = tls_context(self.listening.client_ca or self._ca, self._server_pair)
            logins = {self._user: (password, space)}
            self._ftps = DepotFtpsServer(context, logins, self.journal, self.faults, host, self.listening.ftps_port)
            self._ftps.start()
        except BaseException:
            self.stop()
            raise
        self.known_hosts = keys / "known_hosts"
        public = host_key.export_public_key("openssh").decode().strip()
        self.known_hosts.write_text(f"[{host}]:{self.sftp_port} {public}\n", encoding="utf-8")
        self.host_fingerprint = host_key.get_fingerprint()
        return self

    def _titulaire_key(self, keys: Path) -> tuple[asyncssh.SSHKey, Path | None]:
        """The titulaire's public key (the platform's own), or a key pair made here and its private file."""
        if self.listening.authorized_key is not None:
            return asyncssh.read_public_key(str(self.listening.authorized_key)), None
        client_key = asyncssh.generate_private_key(SSH_KEY_TYPE, comment=self._user)
        key_path = keys / self._user
        client_key.write_private_key(str(key_path))
        key_path.chmod(0o600)
        client_key.write_public_key(str(key_path) + ".pub")
        return client_key, key_path

    def stop(self) -> None:
        for server in (self._ftps, self._sftp):
            if server is not None:
                server.stop()
        self._sftp = self._ftps = None
        if self.returns is not None:
            self.returns.stop()
            self.returns = None

    def read_returns(self, recorder: ReturnRecorder, agreed: bool) -> ReturnArchiveReader:
        """Read every return archive the titulaire publishes into `recorder` (the ASP's journal of returns), and
        acknowledge it in `entrant/`; `agreed`: whether the project agreed on this return channel."""
        reader = ReturnArchiveReader(self.space(), self.root / EVIDENCE_FOLDER, recorder, self.put, agreed)
        self.returns = reader.start()
        self.journal.listen(reader.observe)
        return reader

    # -- where it listens ----------------------------------------------------------------------------

    @property
    def sftp_port(self) -> int:
        assert self._sftp is not None, "server not started"
        return self._sftp.port

    @property
    def ftps_port(self) -> int:
        assert self._ftps is not None, "server not started"
        return self._ftps.port

    def sftp_command(self, *options: str) -> str:
        """The OpenSSH `sftp` command that logs in as the titulaire (its key, the server's host key pinned),
        with `options` of its own (`-b -`)."""
        key = ("-i", shlex.quote(str(self.access.key))) if self.access.key else ()
        pinned = ("-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={shlex.quote(str(self.known_hosts))}")
        destination = f"{self.access.user}@{self.listening.host}"
        words = ("sftp", *options, "-P", str(self.sftp_port), *key, *pinned, destination)
        return " ".join(words)

    def space(self) -> Path:
        """The titulaire's space on disk."""
        return self.root / "espaces" / self._user

    def state(self) -> dict[str, Any]:
        """The state file's `depot` key: what a titulaire (or a person with `sftp`) needs to connect."""
        return {
            "sftp": {
                "host": self.listening.host,
                "port": self.sftp_port,
                "user": self.access.user,
                "key": str(self.access.key) if self.access.key else None,
                "known_hosts": str(self.known_hosts),
                "host_key_fingerprint": self.host_fingerprint,
                "command": self.sftp_command(),
            },
            "ftps": {
                "host": self.listening.host,
                "port": self.ftps_port,
                "user": self.access.user,
                "password": self.access.password,
                "ca": str(self._ca),
                "client_cert": str(self.access.client.cert),
                "client_key": str(self.access.client.key),
            },
            "entrant": f"/{INBOUND}",
            "sortant": f"/{OUTBOUND}",
            "journal": str(self.journal.path),
        }

    # -- the ASP side ----------------------------------------------------------------------------------

    def put(self, name: str, content: bytes) -> Path:
        """Deposit an archive (or a request) in `entrant/`: written under a temporary name, then renamed."""
        inbound = self.space() / INBOUND
        temporary = inbound / temporary_name(name)
        with temporary.open("wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        final = temporary.rename(inbound / name)
        self.journal.record(Exchange("local", ASP_SIDE, UPLOAD, f"/{INBOUND}/{name}", octets=len(content)))
        return final

    def inbound(self) -> list[str]:
        """The files published in `entrant/` (not yet taken by the titulaire)."""
        return sorted(p.name for p in (self.space() / INBOUND).iterdir() if is_published(p.name))

    def outbound(self) -> dict[str, bytes]:
        """The files the titulaire published in `sortant/`, by name."""
        folder = self.space() / OUTBOUND
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if is_published(p.name)}

    def notice(self, archive_id: str) -> dict[str, Any] | None:
        """The reception notice the titulaire published for `archive_id`, or None while there is none."""
        path = self.space() / OUTBOUND / notice_name(archive_id)
        try:
            notice: dict[str, Any] = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        return notice
