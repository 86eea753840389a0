"""Faults of the return: what the worker builds and what the outbox sends."""

from __future__ import annotations

import hashlib
import uuid

import httpx

from harness.reference.faults.base import Fault, Json

LATE_SECONDS = 5.0
"""`retour-tardif`: later than a short recette service contract (`delaiMaxRetour` PT3S) allows."""
WITHHELD_SECONDS = 3600.0
"""`retour-jamais-envoye`: longer than any run."""


class ReturnWithoutBusinessData(Fault):
    name = "retour-sans-metadonnee"
    description = "le retour omet la métadonnée `donneesMetier` du dépôt"

    def return_built(self, payload: Json) -> Json:
        payload["metadonnees"] = {k: v for k, v in payload["metadonnees"].items() if k != "donneesMetier"}
        return payload


class InventedContractReference(Fault):
    name = "retour-metadonnee-inventee"
    description = "le retour invente une référence de contrat que le dépôt ne porte pas"

    def return_built(self, payload: Json) -> Json:
        payload["metadonnees"].setdefault("referenceContrat", "CONTRAT-INVENTE")
        return payload


class IterationShifted(Fault):
    name = "retour-iteration-decalee"
    description = "le retour donne l'itération suivante de celle de son dépôt"

    def return_built(self, payload: Json) -> Json:
        payload["metadonnees"]["numeroIteration"] += 1
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


class ReturnAlwaysOutsideContract(Fault):
    name = "retour-toujours-hors-contrat"
    description = "chaque retour est envoyé avec un statut hors du contrat, que l'API de retour de l'ASP refuse"

    def outgoing(self, payload: Json, redelivery: bool) -> Json:
        return payload | {"statut": "BROUILLON"}


class LateReturn(Fault):
    name = "retour-tardif"
    description = f"chaque retour part {LATE_SECONDS:g} s après son dépôt, quel que soit le délai du contrat de service"

    def delivery_delay(self, seconds: float) -> float:
        return seconds + LATE_SECONDS


class WithheldReturn(Fault):
    name = "retour-jamais-envoye"
    description = "aucun retour ne part : les dépôts restent sans retour"

    def delivery_delay(self, seconds: float) -> float:
        return seconds + WITHHELD_SECONDS


class ReturnForAnotherDeposit(Fault):
    name = "retour-autre-depot"
    description = "le retour porte un idDepot que le titulaire n'a jamais attribué"

    def outgoing(self, payload: Json, redelivery: bool) -> Json:
        return payload | {"idDepot": str(uuid.uuid5(uuid.NAMESPACE_URL, f"autre:{payload['idDepot']}"))}


class SecondReturn(Fault):
    name = "retour-double"
    description = "un second retour, différent, est envoyé pour le même dépôt"

    def after_delivery(self, payload: Json) -> list[Json]:
        return [payload | {"idRetour": str(uuid.uuid4())}]


class ReturnWithoutToken(Fault):
    name = "retour-sans-jeton"
    description = "les retours partent sans jeton d'accès OAuth 2.0 vers l'API de retour de l'ASP"

    def callback_auth(self, auth: httpx.Auth | None) -> httpx.Auth | None:
        return None
