"""What a locust process of a load run needs to know, passed by environment variables.

`recette load` sets them for the master and each worker; a worker started by hand on another machine
(see the README) sets the same ones. Nothing here imports locust.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harness.foundations.billing import BillingTags, MotifError
from harness.foundations.clock import utc_now
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.foundations.majors import Major, current_major

DEFAULT_MOTIF = "recette"


def default_run_id() -> str:
    """The run id of locust processes started by hand without RECETTE_RUN_ID: the same for all of a day."""
    return "charge-" + datetime.now(UTC).strftime("%Y%m%d")


class LoadSettingsError(ValueError):
    """A variable is missing or unreadable."""


@dataclass(frozen=True)
class LoadSettings:
    """The settings of the locust processes of one load run."""

    state_file: Path
    """The environment's description (`recette serve --state-file`): URLs, certificates, OAuth client."""
    tags: BillingTags
    limit_bytes: int = TRANSACTION_LIMIT_BYTES
    max_requests: int = 1000
    """Requests of the whole run (all processes) after which it stops."""
    duration_seconds: float = 30.0
    max_users: int = 4
    service_contract: Path = field(default_factory=lambda: contract_path(SERVICE_CONTRACT))
    ramp_report: Path | None = None
    """Where the `rampe` shape writes its steps (JSON)."""
    sent_report: Path | None = None
    """Where the master writes the deposits and bytes sent (for the billing ledger)."""
    version: str | None = None
    """The major loaded (`v1`, `v2`); None: the calendar's current one today."""

    def major(self) -> Major:
        return Major(self.version) if self.version else current_major(utc_now().date())

    def to_env(self) -> dict[str, str]:
        env = {
            "RECETTE_STATE_FILE": str(self.state_file),
            "RECETTE_RUN_ID": self.tags.run_id,
            "RECETTE_MOTIF": self.tags.motif,
            "RECETTE_LIMIT_BYTES": str(self.limit_bytes),
            "RECETTE_MAX_REQUESTS": str(self.max_requests),
            "RECETTE_DURATION_S": str(self.duration_seconds),
            "RECETTE_MAX_USERS": str(self.max_users),
            "RECETTE_SERVICE_CONTRACT": str(self.service_contract),
        }
        if self.ramp_report is not None:
            env["RECETTE_RAMP_REPORT"] = str(self.ramp_report)
        if self.sent_report is not None:
            env["RECETTE_SENT_REPORT"] = str(self.sent_report)
        if self.version is not None:
            env["RECETTE_VERSION"] = self.version
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> LoadSettings:
        if not environ.get("RECETTE_STATE_FILE"):
            raise LoadSettingsError(
                "RECETTE_STATE_FILE manque : chemin du fichier d'état de l'environnement (recette serve --state-file)"
            )
        defaults = cls(Path(), BillingTags(default_run_id(), DEFAULT_MOTIF))
        try:
            return cls(
                state_file=Path(environ["RECETTE_STATE_FILE"]),
                tags=BillingTags.create(
                    environ.get("RECETTE_MOTIF") or DEFAULT_MOTIF, environ.get("RECETTE_RUN_ID") or default_run_id()
                ),
                limit_bytes=int(environ.get("RECETTE_LIMIT_BYTES", defaults.limit_bytes)),
                max_requests=int(environ.get("RECETTE_MAX_REQUESTS", defaults.max_requests)),
                duration_seconds=float(environ.get("RECETTE_DURATION_S", defaults.duration_seconds)),
                max_users=int(environ.get("RECETTE_MAX_USERS", defaults.max_users)),
                service_contract=Path(environ.get("RECETTE_SERVICE_CONTRACT", defaults.service_contract)),
                ramp_report=_path(environ.get("RECETTE_RAMP_REPORT")),
                sent_report=_path(environ.get("RECETTE_SENT_REPORT")),
                version=Major(environ["RECETTE_VERSION"]).name if environ.get("RECETTE_VERSION") else None,
            )
        except MotifError as error:
            raise LoadSettingsError(f"RECETTE_MOTIF : {error}") from error
        except ValueError as error:
            raise LoadSettingsError(f"variable RECETTE_* illisible : {error}") from error


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
