"""The archive's manifest (`manifeste.json`): read, checked against its schema, matched with the files.

Every document the manifest names must be in the archive with its size and SHA-256, and nothing else may
be; with the SAE option, the declared hash must be that of the documents concatenated in the manifest's order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from harness.foundations.archive_convention import MANIFEST, MANIFEST_SCHEMA, schema_errors
from harness.reference.archives.extraction import CHUNK_BYTES, ArchiveRefused, ExtractedFile


@dataclass(frozen=True)
class ManifestDocument:
    """One document of the archive, matched with the manifest: the file and the UID of its piece."""

    file: ExtractedFile
    uid: str


@dataclass(frozen=True)
class Manifest:
    """What the manifest declares, once matched: the metadata and the documents in the manifest's order."""

    metadata: dict[str, Any]
    documents: list[ManifestDocument]
    digest: str
    """SHA-256 of the documents concatenated in the manifest's order (the deposit's empreinte)."""

    @property
    def pieces(self) -> int:
        return len({document.uid for document in self.documents})


def read_manifest(archive_id: str, files: list[ExtractedFile], max_bytes: int) -> Manifest:
    """The archive's manifest matched with its files, or `ArchiveRefused` with the first defect."""
    by_name = {file.name: file for file in files}
    manifest_file = by_name.pop(MANIFEST, None)
    if manifest_file is None:
        raise ArchiveRefused("manifeste-absent", f"pas de {MANIFEST} à la racine de l'archive")
    if manifest_file.size > max_bytes:
        raise ArchiveRefused("manifeste-invalide", f"{MANIFEST} dépasse {max_bytes} octets")
    try:
        document = json.loads(manifest_file.path.read_bytes())
    except (UnicodeDecodeError, ValueError) as error:
        raise ArchiveRefused("manifeste-invalide", f"{MANIFEST} n'est pas du JSON ({error})") from error
    if errors := schema_errors(MANIFEST_SCHEMA, document):
        raise ArchiveRefused("manifeste-invalide", errors[0])
    if document["identifiantArchive"] != archive_id:
        raise ArchiveRefused(
            "manifeste-non-concordant", f"le manifeste décrit l'archive {document['identifiantArchive']}"
        )
    documents = _match(document["pieces"], by_name)
    digest = _concatenated_digest(documents)
    _check_sae(document["metadonnees"], digest)
    return Manifest(document["metadonnees"], documents, digest)


def _match(pieces: list[dict[str, Any]], files: dict[str, ExtractedFile]) -> list[ManifestDocument]:
    matched: list[ManifestDocument] = []
    for piece in pieces:
        for declared in piece["documents"]:
            name = declared["chemin"]
            file = files.pop(name, None)
            if file is None:
                raise ArchiveRefused(
                    "manifeste-non-concordant", f"{name} est déclaré mais absent (ou déclaré deux fois)"
                )
            if file.size != declared["tailleOctets"] or file.digest != declared["empreinte"]["valeur"]:
                raise ArchiveRefused(
                    "manifeste-non-concordant", f"{name} : taille ou empreinte différente du manifeste"
                )
            matched.append(ManifestDocument(file, piece["uid"]))
    if files:
        raise ArchiveRefused("manifeste-non-concordant", f"{sorted(files)[0]} n'est pas déclaré dans le manifeste")
    return matched


def _concatenated_digest(documents: list[ManifestDocument]) -> str:
    digest = hashlib.sha256()
    for document in documents:
        with document.file.path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
    return digest.hexdigest()


def _check_sae(metadata: dict[str, Any], digest: str) -> None:
    if metadata.get("sae") and metadata["empreinte"]["valeur"] != digest:
        raise ArchiveRefused(
            "manifeste-non-concordant", "l'empreinte SAE déclarée ne concorde pas avec les documents de l'archive"
        )
