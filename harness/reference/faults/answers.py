"""Faults of the API's answers: the receipt, the health and state answers, the refusals, the versions."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from harness.foundations.problems import Problem
from harness.reference.faults.base import Answer, Fault, Json

if TYPE_CHECKING:
    from harness.foundations.token_verifier import TokenVerifier
    from harness.reference.lifecycle import Lifecycle


class MissingLocation(Fault):
    name = "location-absente"
    description = "l'accusé de réception 202 d'un dépôt n'a pas d'en-tête Location"

    def deposit_answer(self, answer: Answer) -> Answer:
        answer.headers.pop("Location", None)
        return answer


class WrongReceiptDigest(Fault):
    name = "empreinte-accusee-fausse"
    description = "l'accusé de réception donne une empreinte qui n'est pas celle des documents reçus"

    def deposit_answer(self, answer: Answer) -> Answer:
        answer.body["empreinte"] = {"algorithme": "SHA-256", "valeur": hashlib.sha256(b"").hexdigest()}
        return answer


class WrongReceiptSize(Fault):
    name = "taille-accusee-fausse"
    description = "l'accusé de réception annonce un octet de moins que le corps reçu"

    def deposit_answer(self, answer: Answer) -> Answer:
        answer.body["tailleOctets"] -= 1
        return answer


class RepeatedDepositId(Fault):
    name = "identifiant-repete"
    description = "chaque accusé de réception répète l'idDepot du premier dépôt reçu"

    def __init__(self) -> None:
        self._first: str | None = None

    def deposit_answer(self, answer: Answer) -> Answer:
        self._first = self._first or answer.body["idDepot"]
        answer.body["idDepot"] = self._first
        if "Location" in answer.headers:
            answer.headers["Location"] = f"{answer.headers['Location'].rsplit('/', 1)[0]}/{self._first}"
        return answer


class HealthOutsideContract(Fault):
    name = "reponse-hors-contrat"
    description = "GET /v1/sante répond une `version` qui n'est pas une chaîne"

    def health_answer(self, body: Json) -> Json:
        return body | {"version": 1}


class StateWithoutBusinessData(Fault):
    name = "etat-sans-donnees-metier"
    description = "l'état d'un dépôt omet ses `donneesMetier`"

    def state_answer(self, body: Json, path: str) -> Json:
        body["metadonnees"].pop("donneesMetier", None)
        return body


class AckMisrecorded(Fault):
    name = "acquittement-mal-enregistre"
    description = "l'état d'un dépôt donne l'idRetour pour idAcquittement de l'ASP"

    def state_answer(self, body: Json, path: str) -> Json:
        if "idAcquittement" in body.get("retour", {}):
            body["retour"]["idAcquittement"] = body["retour"]["idRetour"]
        return body


class V2DossierMistranslated(Fault):
    name = "v2-dossier-mal-traduit"
    description = "l'état d'un dépôt en version 2 donne au dossier l'itération suivante"

    def state_answer(self, body: Json, path: str) -> Json:
        dossier = body["metadonnees"].get("dossier") if path.startswith("/v2/") else None
        if dossier is not None:
            dossier["iteration"] += 1
        return body


class ResendAnotherReturn(Fault):
    name = "retransmission-nouveau-retour"
    description = "une demande de retransmission annonce un autre idRetour que celui du retour remis"

    def resend_answer(self, body: Json) -> Json:
        return body | {"idRetour": str(uuid.uuid4())}


class InvalidMetadataServerError(Fault):
    name = "erreur-500-metadonnees"
    description = "des métadonnées hors contrat reçoivent une erreur 500 au lieu d'un refus 422"

    def refusal(self, problem: Problem, path: str) -> Problem:
        if problem.code != "metadonnees-invalides":
            return problem
        return Problem("erreur-interne", "Une erreur interne est survenue ; elle a été journalisée.")


class RecodedRefusal(Fault):
    """A refusal answered with another code (and so another status) on the routes ending with `suffix`."""

    code: ClassVar[str]
    replacement: ClassVar[str]
    suffix: ClassVar[str] = ""

    def refusal(self, problem: Problem, path: str) -> Problem:
        if problem.code != self.code or not path.endswith(self.suffix):
            return problem
        return dataclasses.replace(problem, code=self.replacement)


class UnknownDepositAs400(RecodedRefusal):
    name = "depot-inconnu-en-400"
    description = "un dépôt inconnu est refusé en 400 « parametre-invalide » au lieu de 404 « depot-inconnu »"
    code, replacement = "depot-inconnu", "parametre-invalide"


class ExpiredAsUnknown(RecodedRefusal):
    name = "depot-expire-inconnu"
    description = "un dépôt dont la conservation est passée est dit inconnu (404) au lieu d'expiré (410)"
    code, replacement = "depot-expire", "depot-inconnu"


class ExpiredResendUnavailable(RecodedRefusal):
    name = "retransmission-expiree-indisponible"
    description = "la retransmission d'un dépôt expiré est refusée en 409 « retour-non-disponible » au lieu de 410"
    code, replacement, suffix = "depot-expire", "retour-non-disponible", "/retransmissions"


class ProblemWithoutCode(Fault):
    name = "erreur-sans-code"
    description = "les refus en problem+json n'ont pas de membre `code`"

    def problem_body(self, body: Json) -> Json:
        return {key: value for key, value in body.items() if key != "code"}


class LimitPlusOne(Fault):
    name = "limite-depassee-acceptee"
    description = "une transaction d'un octet au-delà de la limite de 20 Mo est acceptée"

    def transaction_limit(self, limit_bytes: int) -> int:
        return limit_bytes + 1


class TokensUnchecked(Fault):
    name = "jeton-non-verifie"
    description = "l'API ne vérifie pas les jetons d'accès OAuth 2.0 (TLS mutuel seul)"

    def token_verifier(self, verifier: TokenVerifier | None) -> TokenVerifier | None:
        return None


class EarlyDeprecation(Fault):
    name = "depreciation-anticipee"
    description = "la version 1 se dit dépréciée un jour avant la date annoncée"

    def lifecycles(self, lifecycles: dict[str, Lifecycle]) -> dict[str, Lifecycle]:
        v1 = lifecycles["/v1"]
        early = v1.deprecated - timedelta(days=1) if v1.deprecated else None
        return lifecycles | {"/v1": dataclasses.replace(v1, deprecated=early)}


class NeverRetired(Fault):
    name = "version-jamais-retiree"
    description = "la version 1 répond encore après sa fin de vie au lieu de 410"

    def lifecycles(self, lifecycles: dict[str, Lifecycle]) -> dict[str, Lifecycle]:
        return lifecycles | {"/v1": dataclasses.replace(lifecycles["/v1"], sunset=None)}


class NoMigrationGuideLink(Fault):
    name = "guide-de-migration-absent"
    description = "les réponses d'une version dépréciée ne renvoient pas vers le guide de migration"

    def deprecation_headers(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, value) for name, value in headers if 'rel="deprecation"' not in value]


class TraceInDetail(Fault):
    name = "trace-dans-le-detail"
    description = "le `detail` des refus 422 metadonnees-invalides porte la trace d'exécution Python de l'exception"

    def problem_body(self, body: Json) -> Json:
        if body.get("code") != "metadonnees-invalides":
            return body
        trace = (
            "Traceback (most recent call last):\n"
            '  File "/srv/titulaire/app/validation.py", line 87, in check_deposit_body\n'
            "    raise InvalidMetadata(field)\n"
            "InvalidMetadata: numeroIteration"
        )
        return body | {"detail": f"{body.get('detail', '')}\n{trace}"}


class DeclaredSizeIgnored(Fault):
    name = "taille-annoncee-ignoree"
    description = (
        "une taille annoncée au-delà de la limite n'est pas refusée sur l'annonce : le corps est lu jusqu'à la "
        "limite avant le refus 413"
    )

    def refuse_on_declared_size(self, refused: bool) -> bool:
        return False


class ExpiredTokensAccepted(Fault):
    name = "jeton-expire-accepte"
    description = "l'API accepte les jetons expirés ou pas encore valides (tolérance d'horloge d'un jour)"

    def token_verifier(self, verifier: TokenVerifier | None) -> TokenVerifier | None:
        if verifier is not None:
            verifier.leeway_seconds = 24 * 3600
        return verifier
