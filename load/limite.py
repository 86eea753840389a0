"""Profil `limite` : chaque utilisateur dépose des pièces dont la transaction est juste sous la limite de 20 Mo.

    RECETTE_STATE_FILE=etat.json locust -f load/limite.py --headless -u 4 -t 30s

Each deposit's transaction (request body + receipt) is 1 KiB under the limit; each accepted deposit is
followed by the wait for its single return (`RETOUR`).
"""

from __future__ import annotations

from asp_user import AspUser, near_limit_size
from locust import task


class DepotALaLimite(AspUser):
    """Deposits just under the transaction limit, one after the other."""

    @task
    def deposit_near_limit(self) -> None:
        self.deposit(near_limit_size())
