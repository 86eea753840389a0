"""The reference's client of the ASP's deposit server, as a real titulaire's: SFTP (asyncssh) or FTPS (ftplib).

One `session()` per look at the server: list a folder, download a file to disk in streaming, publish a
file atomically (temporary name, then rename), remove a file. Any failure of the server (refused connection,
transfer cut, full disk) is a `RemoteError`: the consumer tries again at its next look.
"""

from __future__ import annotations

import asyncio
import contextlib
import ftplib
import io
import posixpath
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import asyncssh

from harness.foundations.archive_convention import is_published, temporary_name
from harness.reference.settings import ArchiveSettings

TIMEOUT_SECONDS = 30.0
SFTP_BLOCK_BYTES = 256 * 1024
"""Bytes per SFTP read request: twice asyncssh's default throughput on loopback (16 KiB blocks)."""
LISTING_NAME = 8
"""Index of the name in an `ls -l` line split 8 times (a name may hold spaces)."""


class RemoteError(Exception):
    """The deposit server could not be reached, or an operation on it failed."""


class Session(Protocol):
    """One connection to the titulaire's space on the deposit server."""

    async def published(self, folder: str) -> list[str]:
        """Names of the files of `folder` that are not being written (no leading dot)."""
        ...

    async def download(self, path: str, target: Path) -> None: ...

    async def publish(self, folder: str, name: str, content: bytes) -> None:
        """Write `content` as `folder/name`, atomically: under a temporary name, then renamed."""
        ...

    async def remove(self, path: str) -> None: ...


def session(settings: ArchiveSettings, tls: ssl.SSLContext | None) -> contextlib.AbstractAsyncContextManager[Session]:
    """A session on the deposit server by the configured protocol (`tls`: FTPS's, with our client certificate)."""
    if settings.protocol == "sftp":
        return _sftp_session(settings)
    assert tls is not None, "FTPS needs our TLS context"
    return _ftps_session(settings, tls)


# -- SFTP --------------------------------------------------------------------------------------------


class _SftpSession:
    def __init__(self, client: asyncssh.SFTPClient) -> None:
        self._client = client

    async def published(self, folder: str) -> list[str]:
        names = await self._client.listdir(folder)
        return sorted(n for n in names if n not in (".", "..") and is_published(n))

    async def download(self, path: str, target: Path) -> None:
        await self._client.get(path, str(target), block_size=SFTP_BLOCK_BYTES)

    async def publish(self, folder: str, name: str, content: bytes) -> None:
        temporary = posixpath.join(folder, temporary_name(name))
        async with self._client.open(temporary, "wb") as handle:
            await handle.write(content)
        await self._client.posix_rename(temporary, posixpath.join(folder, name))

    async def remove(self, path: str) -> None:
        await self._client.remove(path)


@contextlib.asynccontextmanager
async def _sftp_session(settings: ArchiveSettings) -> AsyncIterator[Session]:
    try:
        async with (
            asyncssh.connect(
                settings.host,
                settings.port,
                username=settings.user,
                client_keys=[str(settings.key)] if settings.key else None,
                known_hosts=str(settings.known_hosts) if settings.known_hosts else None,
                connect_timeout=TIMEOUT_SECONDS,
                agent_path=None,
            ) as connection,
            connection.start_sftp_client() as client,
        ):
            yield _SftpSession(client)
    except (OSError, asyncssh.Error) as error:
        raise RemoteError(f"SFTP {settings.host}:{settings.port} : {error}") from error


# -- FTPS --------------------------------------------------------------------------------------------


class _FtpsSession:
    """ftplib's blocking client, each operation on a worker thread."""

    def __init__(self, ftp: ftplib.FTP_TLS) -> None:
        self._ftp = ftp

    async def published(self, folder: str) -> list[str]:
        """Listed by `STAT <folder>` on the control channel (RFC 959): no data channel for a listing."""
        reply = await asyncio.to_thread(self._ftp.sendcmd, f"STAT {folder}")
        lines = reply.splitlines()[1:-1]  # `213-Status of …` … `213 End of status.`
        names = [fields[LISTING_NAME] for line in lines if len(fields := line.split(None, LISTING_NAME)) > LISTING_NAME]
        return sorted(n for n in names if is_published(n))

    async def download(self, path: str, target: Path) -> None:
        def retrieve() -> None:
            with target.open("wb") as sink:
                self._ftp.retrbinary(f"RETR {path}", sink.write)

        await asyncio.to_thread(retrieve)

    async def publish(self, folder: str, name: str, content: bytes) -> None:
        temporary = posixpath.join(folder, temporary_name(name))

        def store() -> None:
            self._ftp.storbinary(f"STOR {temporary}", io.BytesIO(content))
            self._ftp.rename(temporary, posixpath.join(folder, name))

        await asyncio.to_thread(store)

    async def remove(self, path: str) -> None:
        await asyncio.to_thread(self._ftp.delete, path)


@contextlib.asynccontextmanager
async def _ftps_session(settings: ArchiveSettings, tls: ssl.SSLContext) -> AsyncIterator[Session]:
    def connect() -> ftplib.FTP_TLS:
        ftp = ftplib.FTP_TLS(context=tls, timeout=TIMEOUT_SECONDS)
        ftp.connect(settings.host, settings.port)
        ftp.login(settings.user, settings.password or "")  # AUTH TLS first: the password travels encrypted
        ftp.prot_p()
        return ftp

    try:
        ftp = await asyncio.to_thread(connect)
    except (OSError, ftplib.Error, EOFError) as error:
        raise RemoteError(f"FTPS {settings.host}:{settings.port} : {error}") from error
    try:
        yield _FtpsSession(ftp)
    except (OSError, ftplib.Error, EOFError) as error:
        raise RemoteError(f"FTPS {settings.host}:{settings.port} : {error}") from error
    finally:
        with contextlib.suppress(OSError, ftplib.Error, EOFError):
            await asyncio.to_thread(ftp.quit)
        ftp.close()
