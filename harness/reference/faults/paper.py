"""Faults of the returns of plis (mode papier): each makes one check of the paper judge fail."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from harness.reference.faults.base import Fault, Json


class PliIdOutsidePattern(Fault):
    name = "pli-id-hors-motif"
    description = "l'identifiant de chaque pli est écrit en minuscules, hors du motif convenu"

    def return_built(self, payload: Json) -> Json:
        if "idPli" in payload:
            payload["idPli"] = payload["idPli"].lower()
        return payload


class PliIdRepeated(Fault):
    name = "pli-id-repete"
    description = "tous les plis reçoivent le même identifiant (au motif convenu)"

    def return_built(self, payload: Json) -> Json:
        if "idPli" in payload:
            payload["idPli"] = "PLI-REPETE-20260101-000001"
        return payload


class PliDigitizedAfterProcessing(Fault):
    name = "pli-dates-desordonnees"
    description = "chaque pli est daté numérisé après son envoi"

    def return_built(self, payload: Json) -> Json:
        if "numeriseLe" in payload:
            sent = datetime.fromisoformat(payload["envoyeLe"].replace("Z", "+00:00"))
            payload["numeriseLe"] = (sent + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        return payload


class PieceUidsRepeated(Fault):
    name = "pli-uid-repete"
    description = "les pièces de chaque pli reçoivent les mêmes UID, page par page, d'un pli à l'autre"

    def return_built(self, payload: Json) -> Json:
        if "idPli" in payload:
            for position, piece in enumerate(payload["pieces"], start=1):
                piece["uid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"page/{position}"))
        return payload


class PaperFieldsOnEveryReturn(Fault):
    name = "retour-api-avec-pli"
    description = "le retour d'un dépôt de l'API porte un identifiant de pli, réservé au mode papier"

    def return_built(self, payload: Json) -> Json:
        return payload | {"idPli": payload.get("idPli", "PLI-API-20260101-000001")}


class UnreadablePliProcessed(Fault):
    name = "pli-illisible-traite"
    description = "un pli dont aucune page n'a pu être lue est retourné TRAITE, sans motif de rejet"

    def return_built(self, payload: Json) -> Json:
        if "idPli" in payload and payload["statut"] == "REJETE":
            payload = {k: v for k, v in payload.items() if k != "motifRejet"} | {"statut": "TRAITE"}
        return payload
