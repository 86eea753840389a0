"""RFC 9457 problems with the stable codes of the titulaire contract; the wording is the titulaire's own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_TYPE = "application/problem+json"
TITLES = {
    "requete-invalide": "Requête invalide",
    "parametre-invalide": "Paramètre invalide",
    "authentification-requise": "Authentification requise",
    "jeton-invalide": "Jeton invalide",
    "droits-insuffisants": "Droits insuffisants",
    "ressource-inconnue": "Ressource inconnue",
    "methode-non-autorisee": "Méthode non autorisée",
    "depot-inconnu": "Dépôt inconnu",
    "cle-idempotence-reutilisee": "Clé d'idempotence déjà utilisée",
    "retour-non-disponible": "Retour pas encore disponible",
    "depot-expire": "Dépôt expiré",
    "transaction-trop-volumineuse": "Transaction trop volumineuse",
    "type-media-non-supporte": "Type de média non supporté",
    "metadonnees-invalides": "Métadonnées invalides",
    "empreinte-non-concordante": "Empreinte non concordante",
    "erreur-interne": "Erreur interne",
}
REWORDED_TITLE = "Demande non satisfaite"
REWORDED_DETAIL = "Votre demande n'a pas abouti ; son code indique pourquoi."


@dataclass
class Refusal(Exception):
    """A refused request: its status, contract `code`, our own `detail`, extra members and headers."""

    status: int
    code: str
    detail: str
    members: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, reworded: bool) -> dict[str, Any]:
        """The problem document, worded plainly or otherwise (the code never changes)."""
        return {
            "type": f"https://titulaire-equitable.example/problemes/{self.code}",
            "title": REWORDED_TITLE if reworded else TITLES[self.code],
            "status": self.status,
            "detail": REWORDED_DETAIL if reworded else self.detail,
            "code": self.code,
            **self.members,
        }
