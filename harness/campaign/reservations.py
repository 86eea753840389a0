"""Réserves: what a suite should have checked on the platform and could not, never a pass.

A suite calls `reserve(reason, lift)` where a check does not apply to the target as configured (no test
signing key of its issuer, no second client, an ASP-side action it cannot make…): the test ends as a
reservation, the run's verdict becomes « qualifié avec réserves », and the PV lists `lift`, what the vendor
must provide (or the recette team confirm) to lift it. A plain `pytest.skip` stays for what the run was not
asked to check (the calendar does not require it yet, `--tags`).
"""

from __future__ import annotations

from typing import NoReturn


class Reservation(Exception):
    """A check that could not be made: `reason` says why, `lift` what would let it run. The campaign plugin
    turns it into a skip for pytest's own reports and a reservation for the run's."""

    def __init__(self, reason: str, lift: str) -> None:
        super().__init__(f"réserve : {reason} (pour la lever : {lift})")
        self.reason = reason
        self.lift = lift


def reserve(reason: str, lift: str) -> NoReturn:
    """End the current test as a reservation (réserve)."""
    raise Reservation(reason, lift)
