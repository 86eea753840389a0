"""The majors of the titulaire API as the ASP calls them: path prefix, contract, deposit metadata on the wire.

The harness holds a deposit's metadata in one model, the one the ASP's callback API returns (v1's
`MetadonneesDepot`: `identifiantDossier`, `numeroIteration`); each major writes it in its own model on the
wire (v2: a `dossier` object). The run's major comes from `--version` or from the calendar on the run's date.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from harness.foundations.calendar import Calendar, load_calendar
from harness.foundations.contracts import TITULAIRE_V1, TITULAIRE_V2, TITULAIRE_VERSIONS, contract_path, load_yaml

CONTRACTS = {"v1": TITULAIRE_V1, "v2": TITULAIRE_V2}
"""Each major → its contract (the contract loader's names)."""
MOVED_TO_DOSSIER = {"identifiantDossier": "identifiant", "numeroIteration": "iteration"}
"""The v1 fields v2 gathers in its `dossier` object."""


class UnknownMajor(ValueError):
    """A major the contracts do not describe."""


@dataclass(frozen=True)
class Major:
    """One major of the titulaire API (`v1`, `v2`)."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in CONTRACTS:
            raise UnknownMajor(f"version « {self.name} » inconnue : choisir parmi {', '.join(CONTRACTS)}")

    @classmethod
    def numbered(cls, number: int) -> Major:
        return cls(f"v{number}")

    @property
    def number(self) -> int:
        return int(self.name[1:])

    @property
    def prefix(self) -> str:
        """The path prefix of its routes (`/v1`)."""
        return f"/{self.name}"

    @property
    def contract(self) -> str:
        """Its contract, as `harness.foundations.contracts` names it."""
        return CONTRACTS[self.name]

    def path(self, route: str) -> str:
        """`route` (`/depots/{id}`) under this major (`/v1/depots/{id}`)."""
        return self.prefix + route

    def required_metadata(self) -> list[str]:
        """The fields its `MetadonneesDepot` requires, in its own model."""
        return list(load_yaml(self.contract)["components"]["schemas"]["MetadonneesDepot"].get("required", []))

    def wire_metadata(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """Metadata in the harness's (callback) model → this major's model."""
        if self.number < 2 or not MOVED_TO_DOSSIER.keys() <= metadata.keys():
            return metadata
        wire = {k: v for k, v in metadata.items() if k not in MOVED_TO_DOSSIER}
        wire["dossier"] = {inner: metadata[outer] for outer, inner in MOVED_TO_DOSSIER.items()}
        return wire

    def internal_metadata(self, wire: dict[str, Any]) -> dict[str, Any]:
        """Metadata in this major's model → the harness's (callback) model."""
        dossier = wire.get("dossier")
        if self.number < 2 or not isinstance(dossier, dict):
            return wire
        internal = {k: v for k, v in wire.items() if k != "dossier"}
        internal |= {outer: dossier[inner] for outer, inner in MOVED_TO_DOSSIER.items() if inner in dossier}
        return internal


@functools.cache
def project_calendar() -> Calendar:
    """The project's calendar of the titulaire API (`contracts/titulaire/versions.yaml`)."""
    return load_calendar(contract_path(TITULAIRE_VERSIONS))


def current_major(day: date, calendar: Calendar | None = None) -> Major:
    """The latest major `calendar` (by default the project's) serves on `day`."""
    return Major.numbered((calendar or project_calendar()).current_major(day))


def major_of(path: str) -> Major | None:
    """The major whose routes `path` (`/v2/depots`, or under a platform's base path) is under; None: none."""
    return next((Major(segment) for segment in path.split("/") if segment in CONTRACTS), None)
