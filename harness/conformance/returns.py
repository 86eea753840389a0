"""Judging the returns the ASP received for one deposit: exactly one, faithful to its deposit."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from harness.foundations.asp_client import Document


def acknowledged_returns(calls: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The returns the ASP acknowledged as new (a redelivery of the same return gets the same acknowledgement)."""
    return [c for c in calls if c.get("idAcquittement") and not c.get("redelivery")]


def verify_return(
    calls: Sequence[dict[str, Any]], id_depot: str, metadonnees: dict[str, Any], documents: Sequence[Document]
) -> list[str]:
    """What is wrong with the returns received for a deposit (empty when it is exactly right)."""
    problems: list[str] = []
    accepted = acknowledged_returns(calls)
    if len(accepted) != 1:
        problems.append(f"{len(accepted)} retour(s) acquitté(s) au lieu d'exactement un")
    problems += [f"violation : {v}" for c in calls for v in c["violations"]]
    if not accepted:
        return problems
    retour = accepted[0]["retour"]
    if retour["idDepot"] != id_depot:
        problems.append("idDepot différent")
    if retour["metadonnees"] != metadonnees:
        problems.append(f"métadonnées modifiées : {retour['metadonnees']} au lieu de {metadonnees}")
    digests = [p["empreinte"]["valeur"] for p in retour["pieces"]]
    if digests != [hashlib.sha256(d.content).hexdigest() for d in documents]:
        problems.append("empreintes des pièces différentes des documents déposés")
    return problems
