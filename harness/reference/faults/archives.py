"""Faults of the archive mode: the reception notice, the reasons of a refusal, the return of an archive."""

from __future__ import annotations

import uuid

from harness.reference.faults.base import Fault, Json

DOSSIER = "DOSSIER"


class NoticeOutsideContract(Fault):
    name = "notification-hors-contrat"
    description = "la notification de réception d'archive omet l'empreinte de l'archive reçue"

    def archive_notice(self, notice: Json) -> Json:
        return {key: value for key, value in notice.items() if key != "empreinte"}


class GenericRefusalReason(Fault):
    name = "motif-de-rejet-generique"
    description = "toute archive refusée l'est pour « archive illisible », quel que soit son défaut"

    def archive_refusal(self, code: str) -> str:
        return "archive-illisible"


class ArchiveReturnInApiMode(Fault):
    name = "retour-dossier-en-mode-api"
    description = "le retour d'une archive se déclare en mode API"

    def return_built(self, payload: Json) -> Json:
        return payload | {"modeEchange": "API"} if payload["modeEchange"] == DOSSIER else payload


class InventedPieceUid(Fault):
    name = "uid-piece-invente"
    description = "le retour d'une archive donne à chaque pièce un UID du titulaire au lieu de celui du manifeste"

    def return_built(self, payload: Json) -> Json:
        if payload["modeEchange"] != DOSSIER:
            return payload
        invented = [p | {"uid": str(uuid.uuid5(uuid.NAMESPACE_URL, p["nom"]))} for p in payload["pieces"]]
        return payload | {"pieces": invented}
