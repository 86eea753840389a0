"""Faults of the archive mode (mode dossier): the reception notice, the refusal of an unsafe archive, the
return of an archive."""

from __future__ import annotations

import io
import os
import tarfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from harness.reference.faults.base import Fault, Json

OUTSIDE = "chemin-hors-dossier"


class NoticeWithoutDigest(Fault):
    name = "notification-sans-empreinte"
    description = "la notification de réception d'une archive omet son empreinte SHA-256"

    def archive_notice(self, notice: Json) -> Json:
        return {key: value for key, value in notice.items() if key != "empreinte"}


class GenericRefusal(Fault):
    name = "motif-de-rejet-generique"
    description = "toute archive refusée l'est pour « archive-illisible », quel que soit son défaut"

    def archive_refusal(self, code: str, archive: Path, destination: Path) -> str:
        return "archive-illisible"


class ExtractionOutsideFolder(Fault):
    name = "extraction-hors-dossier"
    description = (
        "une archive refusée pour un chemin hors du dossier est tout de même extraite, ses chemins relatifs "
        "suivis (« zip-slip ») : des fichiers s'écrivent hors de son dossier de travail"
    )

    def archive_refusal(self, code: str, archive: Path, destination: Path) -> str:
        if code == OUTSIDE:
            for name, content in _entries(archive):
                if not PurePosixPath(name).is_absolute():  # never outside the run's folders
                    target = Path(os.path.normpath(destination / name))
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(content)
        return code


class PieceUidReplaced(Fault):
    name = "uid-de-piece-remplace"
    description = "le retour d'une archive donne à chaque pièce un UID du titulaire au lieu de l'UID du manifeste"

    def return_built(self, payload: Json) -> Json:
        if payload["modeEchange"] == "DOSSIER":
            for piece in payload["pieces"]:
                piece["uid"] = str(uuid.uuid4())
        return payload


class ReturnArchiveWithoutReturnFile(Fault):
    name = "retour-archive-sans-retour-json"
    description = "l'archive de retour porte le retour sous le nom « resultat.json » au lieu de « retour.json »"

    def return_archive(self, content: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(content)) as bundle:
            retour = bundle.read("retour.json")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("resultat.json", retour)
        return buffer.getvalue()


class AcknowledgementNeverRemoved(Fault):
    name = "acquittement-jamais-retire"
    description = "le titulaire lit l'acquittement de son archive de retour mais ne le retire jamais d'entrant/"

    def remove_acknowledgement(self, remove: bool) -> bool:
        return False


class ArchiveReturnByApi(Fault):
    name = "retour-archive-par-api"
    description = "le retour d'une archive part par l'API de retour de l'ASP alors que le canal archive est convenu"

    def return_channel(self, channel: str) -> str:
        return "api"


def _entries(archive: Path) -> Iterator[tuple[str, bytes]]:
    """Every regular entry's name and content, read without any check."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                if not info.is_dir():
                    yield info.filename, bundle.read(info)
        return
    with tarfile.open(archive) as bundle:
        for member in bundle:
            if member.isfile() and (source := bundle.extractfile(member)) is not None:
                yield member.name, source.read()
