"""Profil `horslimite` : des dépôts au-delà de la limite, de longueur déclarée ou en chunked ; 413 attendu.

    RECETTE_STATE_FILE=etat.json locust -f load/horslimite.py --headless -u 4 -t 30s

Every body is a quarter over the limit (25 MB for 20 MB). With a declared Content-Length the titulaire
must answer 413 before reading it; in chunked transfer it must cut the body off once it crosses the
limit. Any other answer, or a reset, is a failure. `recette load` samples the titulaire's memory (RSS)
meanwhile: refusing must not make it grow.
"""

from __future__ import annotations

from asp_user import SETTINGS as LOAD_SETTINGS
from asp_user import AspUser
from locust import task

from harness.load.profiles import over_limit_size


class DepotHorsLimite(AspUser):
    """Over-limit deposit attempts, declared and chunked."""

    @task
    def declared(self) -> None:
        self.deposit(over_limit_size(LOAD_SETTINGS.limit_bytes), expected=413, operation="deposerPieces [déclaré]")

    @task
    def chunked(self) -> None:
        size = over_limit_size(LOAD_SETTINGS.limit_bytes)
        self.deposit(size, chunked=True, expected=413, operation="deposerPieces [chunked]")
