"""Safe streaming extraction of an archive (zip, tar, tar.gz) with the standard library and our own limits.

Every entry is checked before a byte of it is written: its path stays inside the destination (`tarfile`'s
`data_filter` for tar, the same rules for zip), it is a regular file (no link, device or fifo), it is not
encrypted, not a duplicate, not an archive itself; its bytes are counted as they are read (declared sizes
are never trusted) against the entry, total and ratio limits. The first defect stops the extraction with
its reason (`ArchiveRefused`), and the caller removes the destination: nothing is ever written outside it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from harness.reference.settings import ArchiveLimits
from harness.reference.store import PRIVATE_DIR, PRIVATE_FILE

CHUNK_BYTES = 1024 * 1024
NESTED_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"7z\xbc\xaf\x27\x1c", b"Rar!")
"""Leading bytes of zip, gzip, bzip2, xz, 7z and rar archives."""
TAR_MAGIC_OFFSET = 257
UNIX_SYSTEM = 3
"""A zip entry made on Unix carries its file type and mode in the high bits of `external_attr`."""


class ArchiveRefused(Exception):
    """The archive is refused: `code` is the notice's stable reason (contracts/archives/v1), `detail` names
    the entry at fault."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code} : {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ExtractedFile:
    """One regular file written under the destination."""

    name: str
    """Its path inside the archive (`pieces/facture.pdf`)."""
    path: Path
    size: int
    digest: str


@dataclass
class _Budget:
    """What the archive may still make us write."""

    limits: ArchiveLimits
    whole_compressed: int | None = None
    """A tar.gz's size: its decompressed total is held to the ratio (its entries have no size of their own)."""
    entries: int = 0
    total: int = 0

    def count_entry(self, name: str) -> None:
        self.entries += 1
        if self.entries > self.limits.entries:
            raise ArchiveRefused("trop-d-entrees", f"plus de {self.limits.entries} entrées")

    def count_bytes(self, name: str, written: int, added: int, compressed: int | None) -> None:
        self.total += added
        if written > self.limits.entry_bytes:
            raise ArchiveRefused("entree-trop-volumineuse", f"{name} dépasse {self.limits.entry_bytes} octets")
        if self.total > self.limits.total_bytes:
            raise ArchiveRefused("archive-trop-volumineuse", f"plus de {self.limits.total_bytes} octets décompressés")
        if compressed is not None and self._excessive(written, compressed):
            raise ArchiveRefused("taux-de-compression-excessif", f"{name} : taux supérieur à {self.limits.ratio:g}")
        if self.whole_compressed is not None and self._excessive(self.total, self.whole_compressed):
            raise ArchiveRefused("taux-de-compression-excessif", f"archive : taux supérieur à {self.limits.ratio:g}")

    def _excessive(self, decompressed: int, compressed: int) -> bool:
        """Over the ratio, beyond a first chunk (a small text compresses far, harmlessly)."""
        return decompressed > CHUNK_BYTES and decompressed > self.limits.ratio * max(compressed, 1)


def extract(archive: Path, kind: str, destination: Path, limits: ArchiveLimits) -> list[ExtractedFile]:
    """Extract `archive` (`zip`, `tar` or `tar.gz`) under `destination`, or raise `ArchiveRefused`."""
    destination.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    budget = _Budget(limits, archive.stat().st_size if kind == "tar.gz" else None)
    try:
        if kind == "zip":
            return _extract_zip(archive, destination, budget)
        return _extract_tar(archive, kind, destination, budget)
    except ArchiveRefused:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError, ValueError) as error:
        raise ArchiveRefused("archive-illisible", f"archive {kind} tronquée ou corrompue ({error})") from error


# -- zip ---------------------------------------------------------------------------------------------


def _extract_zip(archive: Path, destination: Path, budget: _Budget) -> list[ExtractedFile]:
    extracted, seen = [], set[str]()
    with zipfile.ZipFile(archive) as bundle:
        for info in bundle.infolist():
            budget.count_entry(info.filename)
            _check_zip_entry(info)
            if info.is_dir():
                continue
            name = _safe_name(info.filename, seen)
            with bundle.open(info) as source:
                extracted.append(_write(source, name, destination, budget, info.compress_size))
    return extracted


def _check_zip_entry(info: zipfile.ZipInfo) -> None:
    kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == UNIX_SYSTEM else 0
    if kind == stat.S_IFLNK:
        raise ArchiveRefused("lien-interdit", f"{info.filename} est un lien symbolique")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveRefused("type-entree-interdit", f"{info.filename} n'est pas un fichier ordinaire")
    if info.flag_bits & 0x1:
        raise ArchiveRefused("entree-chiffree", f"{info.filename} est chiffrée")


# -- tar ---------------------------------------------------------------------------------------------


def _extract_tar(archive: Path, kind: str, destination: Path, budget: _Budget) -> list[ExtractedFile]:
    extracted, seen = [], set[str]()
    with tarfile.open(archive, "r|gz" if kind == "tar.gz" else "r|") as bundle:
        for member in bundle:
            budget.count_entry(member.name)
            _check_tar_member(member, destination)
            if member.isdir():
                continue
            name = _safe_name(member.name, seen)
            source = bundle.extractfile(member)
            assert source is not None, "a regular file has content"
            extracted.append(_write(source, name, destination, budget, None))
    return extracted


def _check_tar_member(member: tarfile.TarInfo, destination: Path) -> None:
    """Links, devices and paths leaving `destination` refused, as `tarfile`'s `data` filter refuses them."""
    if member.issym() or member.islnk():
        raise ArchiveRefused("lien-interdit", f"{member.name} est un lien")
    if not (member.isfile() or member.isdir()):
        raise ArchiveRefused("type-entree-interdit", f"{member.name} n'est pas un fichier ordinaire")
    try:
        tarfile.data_filter(member, str(destination))
    except (tarfile.AbsolutePathError, tarfile.OutsideDestinationError) as error:
        raise ArchiveRefused("chemin-hors-dossier", f"{member.name} sortirait du dossier") from error
    except tarfile.FilterError as error:
        raise ArchiveRefused("type-entree-interdit", f"{member.name} : {error}") from error


# -- both --------------------------------------------------------------------------------------------


def _safe_name(name: str, seen: set[str]) -> str:
    """The entry's relative path, refused when absolute, climbing out, or already seen."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts or ":" in path.parts[0]:
        raise ArchiveRefused("chemin-hors-dossier", f"{name} sortirait du dossier")
    normal = path.as_posix()
    if normal in seen:
        raise ArchiveRefused("nom-en-double", f"{normal} apparaît deux fois")
    seen.add(normal)
    return normal


def _write(source: IO[bytes], name: str, destination: Path, budget: _Budget, compressed: int | None) -> ExtractedFile:
    """Stream one entry to its file under `destination`, counting and hashing its bytes."""
    target = destination.joinpath(*PurePosixPath(name).parts)
    if not target.resolve().is_relative_to(destination.resolve()):
        raise ArchiveRefused("chemin-hors-dossier", f"{name} sortirait du dossier")
    target.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    digest, written = hashlib.sha256(), 0
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as sink:
        for chunk in _chunks(source):
            if written == 0 and _is_archive(chunk):
                raise ArchiveRefused("archive-imbriquee", f"{name} est elle-même une archive")
            written += len(chunk)
            budget.count_bytes(name, written, len(chunk), compressed)
            digest.update(chunk)
            sink.write(chunk)
    return ExtractedFile(name, target, written, digest.hexdigest())


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    while chunk := source.read(CHUNK_BYTES):
        yield chunk


def _is_archive(head: bytes) -> bool:
    tar_magic = head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] == b"ustar"
    return head.startswith(NESTED_SIGNATURES) or tar_magic
