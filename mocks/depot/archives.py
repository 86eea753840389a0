"""What the ASP deposits (mode dossier): archives built in memory, valid or deliberately unsafe.

`build()` writes a valid archive (its manifest and its pieces) in any agreed format; `UNSAFE` holds, for
each reason of refusal of the convention, archives that a titulaire must refuse with it. Shared by the
harness's tests and the `dossiers` suite, so both deposit the very same files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
import uuid
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.foundations.archive_convention import MANIFEST, PIECES_FOLDER

ZIP_UNIX = 3
ZIP_ENCRYPTED_FLAG = 0x1
ZIP_LOCAL_FLAGS_OFFSET, ZIP_CENTRAL_FLAGS_OFFSET = 6, 8
ZIP_LOCAL_SIGNATURE, ZIP_CENTRAL_SIGNATURE = b"PK\x03\x04", b"PK\x01\x02"
EXTENSIONS = {"zip": ".zip", "tar": ".tar", "tar.gz": ".tar.gz"}


@dataclass(frozen=True)
class Entry:
    """One entry of an archive: a regular file by default, or a link, a folder, a fifo."""

    name: str
    content: bytes = b""
    kind: str = "file"
    """`file`, `dir`, `symlink`, `hardlink` or `fifo`."""
    target: str = ""
    """A link's target."""


@dataclass(frozen=True)
class Piece:
    """One piece deposited by the user: its UID and its documents (name under `pieces/` → content)."""

    documents: dict[str, bytes]
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def empreinte(content: bytes) -> dict[str, str]:
    return {"algorithme": "SHA-256", "valeur": sha256(content)}


def manifest(archive_id: str, metadata: dict[str, Any], pieces: list[Piece]) -> dict[str, Any]:
    """The `manifeste.json` of an archive holding `pieces`, each document under `pieces/`."""
    return {
        "versionManifeste": "1.0",
        "identifiantArchive": archive_id,
        "metadonnees": metadata,
        "pieces": [
            {
                "uid": piece.uid,
                "documents": [
                    {"chemin": f"{PIECES_FOLDER}/{name}", "tailleOctets": len(content), "empreinte": empreinte(content)}
                    for name, content in piece.documents.items()
                ],
            }
            for piece in pieces
        ],
    }


def sae_digest(pieces: list[Piece]) -> dict[str, str]:
    """The SAE hash of `pieces`: SHA-256 of their documents concatenated in the manifest's order."""
    return empreinte(b"".join(content for piece in pieces for content in piece.documents.values()))


def entries(document: dict[str, Any], pieces: list[Piece]) -> list[Entry]:
    """The manifest then every document, as an archive holds them."""
    files = [Entry(f"{PIECES_FOLDER}/{name}", content) for piece in pieces for name, content in piece.documents.items()]
    return [Entry(MANIFEST, json.dumps(document, ensure_ascii=False).encode()), *files]


def build(archive_id: str, kind: str, metadata: dict[str, Any], pieces: list[Piece]) -> tuple[str, bytes]:
    """A valid archive: its file name in `entrant/` and its bytes."""
    return file_name(archive_id, kind), pack(kind, entries(manifest(archive_id, metadata, pieces), pieces))


def file_name(archive_id: str, kind: str) -> str:
    return archive_id + EXTENSIONS[kind]


def pack(kind: str, items: list[Entry]) -> bytes:
    """`items` packed as a `zip`, `tar` or `tar.gz`, in their order (duplicates kept)."""
    return _zip(items) if kind == "zip" else _tar(items, compressed=kind == "tar.gz")


def _zip(items: list[Entry]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a duplicate name is what some cases are made of
        for item in items:
            info = zipfile.ZipInfo(item.name + ("/" if item.kind == "dir" else ""))
            info.create_system = ZIP_UNIX
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = {"file": stat.S_IFREG, "dir": stat.S_IFDIR, "symlink": stat.S_IFLNK, "fifo": stat.S_IFIFO}
            info.external_attr = (mode[item.kind] | 0o644) << 16
            content = item.target.encode() if item.kind == "symlink" else item.content
            bundle.writestr(info, content)
    return buffer.getvalue()


def _tar(items: list[Entry], compressed: bool) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as bundle:
        for item in items:
            info = tarfile.TarInfo(item.name)
            info.mode = 0o644
            kinds = {
                "file": tarfile.REGTYPE,
                "dir": tarfile.DIRTYPE,
                "symlink": tarfile.SYMTYPE,
                "hardlink": tarfile.LNKTYPE,
                "fifo": tarfile.FIFOTYPE,
            }
            info.type = kinds[item.kind]
            info.linkname = item.target
            info.size = len(item.content) if item.kind == "file" else 0
            bundle.addfile(info, io.BytesIO(item.content) if item.kind == "file" else None)
    raw = buffer.getvalue()
    return gzip.compress(raw, mtime=0) if compressed else raw


def encrypted(zipped: bytes) -> bytes:
    """`zipped` with every entry flagged as encrypted (what a password-protected zip declares)."""
    patched = bytearray(zipped)
    for signature, offset in (
        (ZIP_LOCAL_SIGNATURE, ZIP_LOCAL_FLAGS_OFFSET),
        (ZIP_CENTRAL_SIGNATURE, ZIP_CENTRAL_FLAGS_OFFSET),
    ):
        start = patched.find(signature)
        while start >= 0:
            patched[start + offset] |= ZIP_ENCRYPTED_FLAG
            start = patched.find(signature, start + 4)
    return bytes(patched)


# -- the unsafe archives -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """The limits agreed with the titulaire that the size-bound unsafe archives go just beyond."""

    entry_bytes: int
    total_bytes: int
    entries: int
    ratio: float


@dataclass(frozen=True)
class Unsafe:
    """One unsafe archive: the reason it must be refused with, its format, and how to make it."""

    case: str
    """A short name of the case (`zip-slip`, `lien-symbolique`…)."""
    code: str
    """The notice's reason code (CONVENTION.md)."""
    kind: str
    make: Callable[[str, dict[str, Any], Sizes], bytes]
    """(archive id, metadata, limits) → the archive's bytes."""
    marker: str = ""
    """A name the archive tries to write outside its folder (checked absent afterwards)."""
    extension: str = ""
    """The file name's ending when it is not the format's own."""

    def file_name(self, archive_id: str) -> str:
        return archive_id + (self.extension or EXTENSIONS[self.kind])


def _piece() -> Piece:
    return Piece({"facture.pdf": b"%PDF-1.7\n%%EOF\n"})


def _valid_plus(kind: str, *extra: Entry, pieces: list[Piece] | None = None) -> Callable[..., bytes]:
    """A valid archive with `extra` entries appended (so only they are at fault)."""

    def make(archive_id: str, metadata: dict[str, Any], _sizes: Sizes) -> bytes:
        chosen = pieces or [_piece()]
        return pack(kind, entries(manifest(archive_id, metadata, chosen), chosen) + list(extra))

    return make


def _with_manifest(
    kind: str, change: Callable[[dict[str, Any]], Any], pieces: list[Piece] | None = None
) -> Callable[..., bytes]:
    """An archive whose manifest is `change`d (returned as a dict, or raw bytes)."""

    def make(archive_id: str, metadata: dict[str, Any], _sizes: Sizes) -> bytes:
        chosen = pieces or [_piece()]
        items = entries(manifest(archive_id, metadata, chosen), chosen)
        changed = change(manifest(archive_id, metadata, chosen))
        raw = changed if isinstance(changed, bytes) else json.dumps(changed).encode()
        return pack(kind, [Entry(MANIFEST, raw), *items[1:]])

    return make


def _sized(kind: str, sizes_of: Callable[[Sizes], list[int]], filler: Callable[[int], bytes]) -> Callable[..., bytes]:
    """An archive of documents of the sizes given by the limits, declared in its manifest."""

    def make(archive_id: str, metadata: dict[str, Any], sizes: Sizes) -> bytes:
        pieces = [Piece({f"doc{i}.bin": filler(size)}) for i, size in enumerate(sizes_of(sizes))]
        return pack(kind, entries(manifest(archive_id, metadata, pieces), pieces))

    return make


def _truncated(kind: str) -> Callable[..., bytes]:
    def make(archive_id: str, metadata: dict[str, Any], sizes: Sizes) -> bytes:
        whole = build(archive_id, kind, metadata, [Piece({"f.bin": bytes(range(256)) * 64})])[1]
        return whole[: len(whole) // 2]

    return make


def _raw(content: bytes) -> Callable[..., bytes]:
    return lambda *_: content


def _marker(name: str) -> str:
    return f"hors-dossier-{name}"


def _tar_in_zip(archive_id: str, metadata: dict[str, Any], sizes: Sizes) -> bytes:
    return build(archive_id, "tar", metadata, [_piece()])[1]


def _entry_over(sizes: Sizes) -> list[int]:
    return [sizes.entry_bytes + 1]


def _total_over(sizes: Sizes) -> list[int]:
    """The fewest entries, each within its limit, whose total goes one byte beyond the archive's."""
    count = -(-(sizes.total_bytes + 1) // sizes.entry_bytes)
    return [-(-(sizes.total_bytes + 1) // count)] * count


BOMB_BYTES = 8 * 1024 * 1024
"""What a bomb decompresses to at most (within the agreed sizes): some 8 KiB deflated, a ratio near 1000."""


def _bomb(sizes: Sizes) -> list[int]:
    return [min(sizes.entry_bytes, sizes.total_bytes, BOMB_BYTES)]


def _mismatched_digest(document: dict[str, Any]) -> dict[str, Any]:
    document["pieces"][0]["documents"][0]["empreinte"]["valeur"] = "0" * 64
    return document


def _missing_document(document: dict[str, Any]) -> dict[str, Any]:
    document["pieces"][0]["documents"].append(
        {"chemin": "pieces/absente.pdf", "tailleOctets": 1, "empreinte": empreinte(b"x")}
    )
    return document


def _wrong_sae(document: dict[str, Any]) -> dict[str, Any]:
    document["metadonnees"] |= {"sae": True, "empreinte": empreinte(b"autre chose")}
    return document


def _schema_invalid(document: dict[str, Any]) -> dict[str, Any]:
    del document["pieces"][0]["uid"]
    return document


def _no_manifest(archive_id: str, metadata: dict[str, Any], sizes: Sizes) -> bytes:
    piece = _piece()
    return pack("zip", entries(manifest(archive_id, metadata, [piece]), [piece])[1:])


def _too_many(archive_id: str, metadata: dict[str, Any], sizes: Sizes) -> bytes:
    pieces = [Piece({f"p{i}.txt": f"{i}".encode()}) for i in range(sizes.entries)]
    return pack("tar", entries(manifest(archive_id, metadata, pieces), pieces))


def _nested(archive_id: str, metadata: dict[str, Any], sizes: Sizes) -> bytes:
    inner = pack("zip", [Entry("dedans.txt", b"x")])
    piece = Piece({"dossier.zip": inner})
    return pack("zip", entries(manifest(archive_id, metadata, [piece]), [piece]))


def _encrypted(archive_id: str, metadata: dict[str, Any], sizes: Sizes) -> bytes:
    return encrypted(build(archive_id, "zip", metadata, [_piece()])[1])


def _zeros(size: int) -> bytes:
    return bytes(size)


def _incompressible(size: int) -> bytes:
    """Bytes no compressor shrinks: a size limit, not the ratio, is what they reach."""
    return os.urandom(size)


UNSAFE: tuple[Unsafe, ...] = (
    Unsafe("format-inconnu", "format-non-supporte", "zip", _valid_plus("zip"), extension=".rar"),
    Unsafe(
        "zip-slip",
        "chemin-hors-dossier",
        "zip",
        _valid_plus("zip", Entry(f"../{_marker('slip')}", b"x")),
        _marker("slip"),
    ),
    Unsafe(
        "tar-slip",
        "chemin-hors-dossier",
        "tar.gz",
        _valid_plus("tar.gz", Entry(f"pieces/../../{_marker('tarslip')}", b"x")),
        _marker("tarslip"),
    ),
    Unsafe(
        "chemin-absolu",
        "chemin-hors-dossier",
        "tar",
        _valid_plus("tar", Entry(f"/tmp/{_marker('absolu')}", b"x")),
        _marker("absolu"),
    ),
    Unsafe(
        "lien-symbolique",
        "lien-interdit",
        "tar",
        _valid_plus("tar", Entry("pieces/lien", kind="symlink", target="/etc/passwd")),
    ),
    Unsafe(
        "lien-symbolique-zip",
        "lien-interdit",
        "zip",
        _valid_plus("zip", Entry("pieces/lien", kind="symlink", target="/etc/passwd")),
    ),
    Unsafe(
        "lien-physique",
        "lien-interdit",
        "tar",
        _valid_plus("tar", Entry("pieces/lien", kind="hardlink", target="manifeste.json")),
    ),
    Unsafe("tube-nomme", "type-entree-interdit", "tar", _valid_plus("tar", Entry("pieces/tube", kind="fifo"))),
    Unsafe(
        "nom-en-double", "nom-en-double", "zip", _valid_plus("zip", Entry("pieces/facture.pdf", b"%PDF-1.7\n%%EOF\n"))
    ),
    Unsafe("nom-en-double-tar", "nom-en-double", "tar", _valid_plus("tar", Entry(MANIFEST, b"{}"))),
    Unsafe("entree-chiffree", "entree-chiffree", "zip", _encrypted),
    Unsafe("archive-imbriquee", "archive-imbriquee", "zip", _nested),
    Unsafe("trop-d-entrees", "trop-d-entrees", "tar", _too_many),
    Unsafe("entree-trop-volumineuse", "entree-trop-volumineuse", "tar", _sized("tar", _entry_over, _incompressible)),
    Unsafe("archive-trop-volumineuse", "archive-trop-volumineuse", "tar", _sized("tar", _total_over, _incompressible)),
    Unsafe("bombe-zip", "taux-de-compression-excessif", "zip", _sized("zip", _bomb, _zeros)),
    Unsafe("bombe-tar-gz", "taux-de-compression-excessif", "tar.gz", _sized("tar.gz", _bomb, _zeros)),
    Unsafe("zip-tronque", "archive-illisible", "zip", _truncated("zip")),
    Unsafe("tar-gz-tronque", "archive-illisible", "tar.gz", _truncated("tar.gz")),
    Unsafe("contenu-autre-format", "archive-illisible", "zip", _tar_in_zip),
    Unsafe("corrompu", "archive-illisible", "tar.gz", _raw(b"\x1f\x8b\x08\x00" + b"\xff" * 200)),
    Unsafe("manifeste-absent", "manifeste-absent", "zip", _no_manifest),
    Unsafe("manifeste-pas-json", "manifeste-invalide", "zip", _with_manifest("zip", lambda _: b"{pas du json")),
    Unsafe("manifeste-hors-schema", "manifeste-invalide", "tar", _with_manifest("tar", _schema_invalid)),
    Unsafe("empreinte-differente", "manifeste-non-concordant", "zip", _with_manifest("zip", _mismatched_digest)),
    Unsafe("document-absent", "manifeste-non-concordant", "tar", _with_manifest("tar", _missing_document)),
    Unsafe(
        "document-non-declare", "manifeste-non-concordant", "zip", _valid_plus("zip", Entry("pieces/en-trop.pdf", b"x"))
    ),
    Unsafe("empreinte-sae-fausse", "manifeste-non-concordant", "zip", _with_manifest("zip", _wrong_sae)),
)
"""Every unsafe archive, by case; each must be refused with its `code`, nothing written outside its folder."""


FAMILIES: dict[str, tuple[str, ...]] = {
    "chemins hors du dossier": ("zip-slip", "tar-slip", "chemin-absolu"),
    "liens et types d'entrée interdits": ("lien-symbolique", "lien-symbolique-zip", "lien-physique", "tube-nomme"),
    "noms, chiffrement, imbrication": (
        "format-inconnu",
        "nom-en-double",
        "nom-en-double-tar",
        "entree-chiffree",
        "archive-imbriquee",
    ),
    "tailles convenues dépassées": (
        "trop-d-entrees",
        "entree-trop-volumineuse",
        "archive-trop-volumineuse",
        "bombe-zip",
        "bombe-tar-gz",
    ),
    "archives illisibles": ("zip-tronque", "tar-gz-tronque", "contenu-autre-format", "corrompu"),
    "manifestes": (
        "manifeste-absent",
        "manifeste-pas-json",
        "manifeste-hors-schema",
        "empreinte-differente",
        "document-absent",
        "document-non-declare",
        "empreinte-sae-fausse",
    ),
}
"""The unsafe cases by family, as `features/dossiers.feature` deposits them (each case in one family)."""
SIZE_FAMILY = "tailles convenues dépassées"
"""The family whose archives go beyond the sizes agreed with the titulaire."""


def unsafe(case: str) -> Unsafe:
    """The unsafe archive of `case` (KeyError when there is none)."""
    return {u.case: u for u in UNSAFE}[case]
