"""Authentification des retours (OAuth 2.0 dans le sens titulaire → ASP)

Judged once every suite of the run has made its deposits: every return call the ASP side received for a deposit
carried a valid `retours:ecrire` token of the ASP's issuer: the ASP-side one, or the ASP's own identity provider
(`callback.issuer`) (none refused 401/403, rule `retour-authentifie`).
Against a real platform this needs the ASP side prepared in advance (`callback.dir`, `recette certificats`):
without it the receiver checks no token, and the return direction's OAuth is a reservation, never a pass.
"""

from __future__ import annotations

import pytest

from harness.campaign.reservations import reserve
from harness.campaign.target import ExternalTarget, Target
from harness.conformance.returns import authentication_defects


@pytest.mark.apres_les_suites
def test_les_retours_portent_un_jeton_valide(cible: Target, preuves: list[str]) -> None:
    """Chaque retour de la plateforme porte un jeton d'accès valide de l'émetteur de l'ASP"""
    if isinstance(cible, ExternalTarget) and cible.receiver.side is None:
        reserve(
            "jetons des retours non vérifiés : le récepteur n'a pas d'émetteur du côté ASP (callback.dir absent)",
            "préparer le côté ASP (« recette certificats --config », callback.dir) et le remettre au titulaire",
        )
    with cible.inspector() as inspector:
        calls = [call for call in inspector.received() if call.get("idDepot")]
    defects = authentication_defects(calls)
    preuves.append(
        f"{len(calls)} appel(s) de retour reçu(s) par l'ASP ; {', '.join(map(str, defects)) or 'aucun refusé'}"
    )
    if defects:
        pytest.fail(str(defects[0]), pytrace=False)
