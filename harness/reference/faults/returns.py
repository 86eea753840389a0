"""Faults of the return: what the worker builds and what the outbox sends."""

from __future__ import annotations

import hashlib
import uuid

from harness.reference.faults.base import Fault, Json


class ReturnWithoutBusinessData(Fault):
    name = "retour-sans-metadonnee"
    description = "le retour omet la métadonnée `donneesMetier` du dépôt"

    def return_built(self, payload: Json) -> Json:
        payload["metadonnees"] = {k: v for k, v in payload["metadonnees"].items() if k != "donneesMetier"}
        return payload


class WrongPieceDigest(Fault):
    name = "empreinte-piece-fausse"
    description = "le retour donne à chaque pièce l'empreinte de son nom au lieu de celle de son document"

    def return_built(self, payload: Json) -> Json:
        for piece in payload["pieces"]:
            piece["empreinte"]["valeur"] = hashlib.sha256(piece["nom"].encode()).hexdigest()
        return payload


class RedeliveryRestamped(Fault):
    name = "retransmission-modifiee"
    description = "un retour retransmis porte une autre date d'envoi : ce n'est plus le même retour"

    def outgoing(self, payload: Json, redelivery: bool) -> Json:
        if not redelivery:
            return payload
        return payload | {"envoyeLe": payload["recuLe"]}


class DraftOutsideContract(Fault):
    name = "premier-retour-hors-contrat"
    description = "chaque retour est d'abord envoyé avec un statut hors du contrat, puis corrigé"

    def before_delivery(self, payload: Json) -> list[Json]:
        return [payload | {"statut": "BROUILLON"}]


class SecondReturn(Fault):
    name = "retour-double"
    description = "un second retour, différent, est envoyé pour le même dépôt"

    def after_delivery(self, payload: Json) -> list[Json]:
        return [payload | {"idRetour": str(uuid.uuid4())}]
