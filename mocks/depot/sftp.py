"""The SFTP side of the deposit server (asyncssh): key authentication, each user chrooted in its space.

It runs on its own event loop in a background thread, on a free port of 127.0.0.1. Every transfer,
rename and removal goes to the journal; armed faults refuse a connection, cut a download or refuse an
upload as a full disk would.
"""

from __future__ import annotations

import asyncio
import os
import posixpath
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, cast

import asyncssh

from mocks.depot.faults import CUT_TRANSFER, DISK_FULL, REFUSED_CONNECTION, DepotFaults
from mocks.depot.journal import DOWNLOAD, REFUSED, REMOVE, RENAME, UPLOAD, Exchange, Journal

LOOPBACK = "127.0.0.1"
START_TIMEOUT_SECONDS = 15.0
PROTOCOL = "SFTP"


class _Opened:
    """What went through a file the client opened."""

    def __init__(self, path: str, writing: bool, cut_after: int | None) -> None:
        self.path = path
        self.writing = writing
        self.cut_after = cut_after
        self.bytes = 0


class DepotSftpServer:
    """The SFTP listener; `users` maps a user name to its authorized public key and its space's folder."""

    def __init__(
        self,
        host_key: asyncssh.SSHKey,
        users: dict[str, tuple[asyncssh.SSHKey, Path]],
        journal: Journal,
        faults: DepotFaults,
        host: str = LOOPBACK,
        port: int = 0,
    ) -> None:
        self._host_key = host_key
        self._host, self._port = host, port
        self._users = users
        self._journal = journal
        self._faults = faults
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="depot-sftp", daemon=True)
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self.port = 0

    def start(self) -> DepotSftpServer:
        self._thread.start()
        future: Future[asyncssh.SSHAcceptor] = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._acceptor = future.result(START_TIMEOUT_SECONDS)
        self.port = self._acceptor.get_port()
        return self

    def stop(self) -> None:
        if self._acceptor is not None:
            acceptor = self._acceptor

            async def close() -> None:
                acceptor.close()
                await acceptor.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), self._loop).result(START_TIMEOUT_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT_SECONDS)
        self._loop.close()

    async def _listen(self) -> asyncssh.SSHAcceptor:
        return await asyncssh.listen(
            self._host,
            self._port,
            server_host_keys=[self._host_key],
            server_factory=lambda: _Authenticator(self._users, self._faults),
            sftp_factory=self._space_of,
            allow_scp=False,
        )

    def _space_of(self, channel: asyncssh.SSHServerChannel[bytes]) -> asyncssh.SFTPServer:
        user = channel.get_extra_info("username")
        return _Space(channel, self._users[user][1], lambda e: self._journal.record(e), self._faults)


class _Authenticator(asyncssh.SSHServer):
    """Public key authentication only, against each user's one authorized key; may refuse the connection."""

    def __init__(self, users: dict[str, tuple[asyncssh.SSHKey, Path]], faults: DepotFaults) -> None:
        self._users = users
        self._faults = faults

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        if self._faults.take(REFUSED_CONNECTION) is not None:
            conn.abort()

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        known = self._users.get(username)
        return known is not None and known[0].public_data == key.public_data


class _Space(asyncssh.SFTPServer):
    """One user's space (chroot), journaled, with the armed faults applied."""

    def __init__(
        self,
        channel: asyncssh.SSHServerChannel[bytes],
        root: Path,
        record: Callable[[Exchange], None],
        faults: DepotFaults,
    ) -> None:
        super().__init__(channel, chroot=os.fsencode(root))
        self._channel = channel
        self._user = str(channel.get_extra_info("username"))
        self._record = record
        self._faults = faults
        self._opened: dict[int, _Opened] = {}

    @staticmethod
    def _virtual(path: bytes) -> str:
        """The path as the client sees it in its space (the hooks receive the client's path)."""
        return os.fsdecode(posixpath.normpath(posixpath.join(b"/", path)))

    def _exchange(self, operation: str, path: str, **fields: Any) -> Exchange:
        return Exchange(PROTOCOL, self._user, operation, path, **fields)

    async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
        """asyncssh's listing, except that a file renamed or removed between the directory's read and its stat (a
        `.part` being published, an archive being taken) is passed over, as OpenSSH does: asyncssh failed the whole
        listing with « No such file », and the titulaire then published its return archive a second time."""
        folder = self.map_path(path)
        for name in (b".", b".."):
            yield asyncssh.SFTPName(name, attrs=asyncssh.SFTPAttrs.from_local(os.stat(os.path.join(folder, name))))
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    attrs = asyncssh.SFTPAttrs.from_local(entry.stat(follow_symlinks=False))
                except FileNotFoundError:
                    continue
                yield asyncssh.SFTPName(entry.name, attrs=attrs)

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        writing = bool(pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT))
        if writing and self._faults.take(DISK_FULL) is not None:
            self._record(self._exchange(REFUSED, self._virtual(path), detail=DISK_FULL))
            raise asyncssh.SFTPFailure("Espace disque insuffisant sur le serveur de dépôt")
        handle = super().open(path, pflags, attrs)
        cut_after = None if writing else self._faults.take(CUT_TRANSFER)
        self._opened[id(handle)] = _Opened(self._virtual(path), writing, cut_after)
        return handle

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        opened = self._opened[id(file_obj)]
        if opened.cut_after is not None and offset + size > opened.cut_after:
            opened.cut_after = None
            self._record(self._exchange(DOWNLOAD, opened.path, octets=offset, complet=False, detail=CUT_TRANSFER))
            self._channel.get_connection().abort()
            raise asyncssh.SFTPConnectionLost("Transfert coupé")
        data = cast(bytes, super().read(file_obj, offset, size))
        opened.bytes = max(opened.bytes, offset + len(data))
        return data

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        written = cast(int, super().write(file_obj, offset, data))
        opened = self._opened[id(file_obj)]
        opened.bytes = max(opened.bytes, offset + written)
        return written

    def close(self, file_obj: object) -> None:
        super().close(file_obj)
        if (opened := self._opened.pop(id(file_obj), None)) is not None:
            operation = UPLOAD if opened.writing else DOWNLOAD
            self._record(self._exchange(operation, opened.path, octets=opened.bytes))

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().rename(oldpath, newpath)
        self._record(self._exchange(RENAME, self._virtual(oldpath), cible=self._virtual(newpath)))

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().posix_rename(oldpath, newpath)
        self._record(self._exchange(RENAME, self._virtual(oldpath), cible=self._virtual(newpath)))

    def remove(self, path: bytes) -> None:
        super().remove(path)
        self._record(self._exchange(REMOVE, self._virtual(path)))
