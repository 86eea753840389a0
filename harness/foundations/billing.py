"""Recette billing tags: every run has a run id and a motif, carried everywhere, and a ledger line.

Any processing on the recette platform that is not tied to an evolution request or a build phase is
billed separately, labelled « environnement de recette ». The motif says which:

- `recette` (default): billable, labelled « environnement de recette »;
- `evolution:REF` or `build:REF`: not billable, linked to that reference.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

LEDGER_NAME = "billing-ledger.csv"
"""The append-only billing ledger, in the reports folder."""

RUN_HEADER = "X-Recette-Run"
MOTIF_HEADER = "X-Recette-Motif"
BILLABLE_LABEL = "environnement de recette"
LEDGER_FIELDS = ("idExecution", "date", "cible", "motif", "facturable", "depotsEnvoyes", "octetsEnvoyes")
_MOTIF = re.compile(r"^(recette|(evolution|build):[A-Za-z0-9][A-Za-z0-9._-]{0,63})$")


class MotifError(ValueError):
    """A motif that is neither `recette`, `evolution:REF` nor `build:REF`."""


@dataclass(frozen=True)
class BillingTags:
    """The tags of one run (étiquettes de facturation)."""

    run_id: str
    motif: str

    @classmethod
    def create(cls, motif: str = "recette", run_id: str | None = None) -> BillingTags:
        if not _MOTIF.match(motif):
            raise MotifError(f"motif invalide « {motif} » : attendu recette, evolution:REF ou build:REF")
        return cls(run_id or new_run_id(), motif)

    @property
    def billable(self) -> bool:
        return self.motif == "recette"

    @property
    def reference(self) -> str | None:
        """The evolution request or build phase the run belongs to."""
        return None if self.billable else self.motif.split(":", 1)[1]

    @property
    def label(self) -> str:
        return BILLABLE_LABEL if self.billable else f"non facturable — {self.motif}"

    def headers(self) -> dict[str, str]:
        """Sent on every request of the run."""
        return {RUN_HEADER: self.run_id, MOTIF_HEADER: self.motif}

    def labels(self) -> dict[str, str]:
        """Attached to every test result (Allure label, JUnit property)."""
        return {
            "recette.idExecution": self.run_id,
            "recette.motif": self.motif,
            "recette.facturable": "oui" if self.billable else "non",
            "recette.libelle": self.label,
        }


def new_run_id(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


@dataclass(frozen=True)
class LedgerLine:
    """One run in the append-only ledger (`reports/billing-ledger.csv`)."""

    tags: BillingTags
    when: datetime
    target: str
    deposits: int
    bytes_sent: int

    def row(self) -> dict[str, Any]:
        return {
            "idExecution": self.tags.run_id,
            "date": self.when.astimezone(UTC).isoformat(timespec="seconds"),
            "cible": self.target,
            "motif": self.tags.motif,
            "facturable": "oui" if self.tags.billable else "non",
            "depotsEnvoyes": self.deposits,
            "octetsEnvoyes": self.bytes_sent,
        }


def append_to_ledger(ledger: Path, line: LedgerLine) -> None:
    """Append one line (the header first when the ledger is new). Lines are never rewritten."""
    ledger.parent.mkdir(parents=True, exist_ok=True)
    new = not ledger.exists() or ledger.stat().st_size == 0
    with ledger.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=LEDGER_FIELDS)
        if new:
            writer.writeheader()
        writer.writerow(line.row())


def read_ledger(ledger: Path) -> list[dict[str, str]]:
    with ledger.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and set(rows[0]) != set(LEDGER_FIELDS):
        raise ValueError(f"{ledger} n'est pas un registre de facturation (colonnes inattendues)")
    return rows


def summarize(rows: Iterable[dict[str, str]], start: date | None, end: date | None) -> list[dict[str, Any]]:
    """Billable and non-billable deposits and bytes per month and per motif, within [start, end]."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        day = datetime.fromisoformat(row["date"]).date()
        if (start and day < start) or (end and day > end):
            continue
        key = (day.strftime("%Y-%m"), row["motif"])
        total = totals.setdefault(
            key,
            {
                "mois": key[0],
                "motif": key[1],
                "facturable": row["facturable"],
                "executions": 0,
                "depots": 0,
                "octets": 0,
            },
        )
        total["executions"] += 1
        total["depots"] += int(row["depotsEnvoyes"])
        total["octets"] += int(row["octetsEnvoyes"])
    return [totals[key] for key in sorted(totals)]
