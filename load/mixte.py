"""Profil `mixte` : un mélange réaliste de dépôts de quelques Ko à la limite, et des consultations.

    RECETTE_STATE_FILE=etat.json locust -f load/mixte.py --headless -u 8 -t 60s

Deposits (most of the calls) are small most often and just under the limit now and then
(`harness.load.profiles.MIX_SIZES`); the ASP also reads a deposit's state, checks the service's
health and, rarely, asks for a retransmission of a return already received.
"""

from __future__ import annotations

import random

from asp_user import MAJOR, AspUser, near_limit_size
from locust import task

from harness.load.profiles import mixed_size


class DepotMixte(AspUser):
    """A realistic ASP client."""

    def on_start(self) -> None:
        super().on_start()
        self.rng = random.Random()

    @task(10)
    def deposit_mixed(self) -> None:
        self.deposit(mixed_size(near_limit_size(), self.rng))

    @task(3)
    def read_state(self) -> None:
        if self.deposits:
            self.check_budget()
            self.call("GET", MAJOR.path(f"/depots/{self.rng.choice(self.deposits)}"), "consulterDepot", 200)

    @task(1)
    def health(self) -> None:
        self.check_budget()
        self.call("GET", MAJOR.path("/sante"), "consulterSante", 200)

    @task(1)
    def resend(self) -> None:
        if self.deposits:
            self.check_budget()
            path = MAJOR.path(f"/depots/{self.deposits[-1]}/retransmissions")
            self.call("POST", path, "retransmettreRetour", 202)
