"""Faults of the service: idempotency, billing tags and sizes, retention, retries and incidents."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

from harness.reference.faults.base import Fault

if TYPE_CHECKING:
    from harness.reference.service import RunTags
    from harness.reference.settings import RetryPolicy

SHORT_RETENTION = timedelta(days=30)


class IdempotencyIgnored(Fault):
    name = "idempotence-ignoree"
    description = "la clé d'idempotence est ignorée : un dépôt rejoué devient un second dépôt"

    def idempotency_key(self, key: str | None) -> str | None:
        return None


class BillingTagsDropped(Fault):
    name = "etiquettes-perdues"
    description = "les dépôts sont enregistrés sans l'identifiant d'exécution ni le motif de la recette"

    def run_tags(self, tags: RunTags) -> RunTags:
        return dataclasses.replace(tags, run_id=None, motif=None)


class DocumentBytesBilled(Fault):
    name = "octets-mal-comptes"
    description = "un dépôt est enregistré avec la taille de ses seuls documents, pas celle du corps reçu"

    def billed_bytes(self, body_bytes: int, document_bytes: int) -> int:
        return document_bytes


class ShortRetention(Fault):
    name = "conservation-courte"
    description = "les résultats ne sont conservés que 30 jours au lieu de 3 mois"

    def retained_until(self, until: datetime, received_at: datetime) -> datetime:
        return received_at + SHORT_RETENTION


class HalfRetention(Fault):
    name = "conservation-moitie"
    description = (
        "les résultats ne sont conservés que la moitié de la durée convenue (celle de la recette comprise) : "
        "la date de fin de conservation annoncée est trop tôt"
    )

    def retained_until(self, until: datetime, received_at: datetime) -> datetime:
        return received_at + (until - received_at) / 2


class NoRetry(Fault):
    name = "sans-nouvelle-tentative"
    description = "un retour refusé par l'API de retour de l'ASP n'est jamais réessayé"

    def retry_policy(self, policy: RetryPolicy) -> RetryPolicy:
        return dataclasses.replace(policy, attempts=1)


class RetryAfterIgnored(Fault):
    name = "delai-de-reessai-ignore"
    description = (
        "un retour refusé en 503 est réessayé selon le seul backoff du titulaire, sans attendre le Retry-After "
        "demandé par l'ASP"
    )

    def retry_policy(self, policy: RetryPolicy) -> RetryPolicy:
        return dataclasses.replace(policy, honour_retry_after=False)


class IncidentWithoutDeposit(Fault):
    name = "incident-sans-depot"
    description = "le ticket d'incident ne nomme pas le dépôt concerné"

    def incident_deposit(self, deposit_id: str | None) -> str | None:
        return None


class IncidentMailMisaddressed(Fault):
    name = "courriel-incident-mal-adresse"
    description = "le courriel d'incident part vers l'adresse du titulaire au lieu de celle de l'ASP"

    def incident_mail(self, message: EmailMessage) -> EmailMessage:
        message.replace_header("To", message["From"])
        return message
