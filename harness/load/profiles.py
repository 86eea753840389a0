"""The load profiles (profils de charge): their locustfiles and the deposit sizes they send.

Sizes are request body sizes in bytes, derived from the transaction limit so that a run against a
smaller limit (tests) keeps the same shape. Nothing here imports locust.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from harness.foundations.resources import project_folder

NEAR_LIMIT_MARGIN_BYTES = 1024
"""`limite`: a transaction (request + receipt) this many bytes under the limit."""
MIX_SIZES: tuple[tuple[int, int], ...] = (
    (4 * 1024, 40),
    (64 * 1024, 25),
    (512 * 1024, 15),
    (2 * 1024 * 1024, 10),
    (8 * 1024 * 1024, 6),
)
"""`mixte`: (body bytes, weight); the rest of the weight goes to deposits just under the limit."""
NEAR_LIMIT_WEIGHT = 4
SMALLEST_BODY_BYTES = 1024


@dataclass(frozen=True)
class Profile:
    """A load profile: its name (as `--profile` takes it), locustfile and what it shows."""

    name: str
    locustfile: str
    description: str

    def path(self) -> Path:
        return load_dir() / self.locustfile


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("limite", "limite.py", "dépôts dont la transaction est juste sous la limite de 20 Mo"),
        Profile("mixte", "mixte.py", "mélange réaliste : dépôts de quelques Ko à la limite, consultations"),
        Profile("horslimite", "horslimite.py", "dépôts au-delà de la limite (déclarés et chunked) : 413 attendu"),
        Profile("rampe", "rampe.py", "montée en charge jusqu'à la première rupture de la qualité de service"),
    )
}


def load_dir() -> Path:
    """The folder of locustfiles."""
    return project_folder("load")


def mixed_size(near_limit_bytes: int, rng: random.Random) -> int:
    """One body size of the `mixte` profile: a few KB to just under the limit, small ones most often."""
    sizes = [min(size, near_limit_bytes) for size, _ in MIX_SIZES] + [near_limit_bytes]
    weights = [weight for _, weight in MIX_SIZES] + [NEAR_LIMIT_WEIGHT]
    return max(SMALLEST_BODY_BYTES, rng.choices(sizes, weights)[0])


def over_limit_size(limit_bytes: int) -> int:
    """`horslimite`: a body a quarter over the limit (25 MB for 20 MB)."""
    return limit_bytes + max(1, limit_bytes // 4)
