"""Recette billing tags: every run has a run id and a motif, carried everywhere, and a ledger line.

Any processing on the recette platform that is not tied to an evolution request or a build phase is
billed separately, labelled « environnement de recette ». The motif says which:

- `recette` (default): billable, labelled « environnement de recette »;
- `evolution:REF` or `build:REF`: not billable, linked to that reference.

A run on the embedded reference is not billable whatever its motif: no titulaire platform processed anything
(`BillingTags.on_embedded_reference`). The ledger keeps its line, `facturable=non`, with that reason. Months
are cut in Europe/Paris, the ASP's time.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LEDGER_NAME = "billing-ledger.csv"
"""The append-only billing ledger, in the reports folder."""

RUN_HEADER = "X-Recette-Run"
MOTIF_HEADER = "X-Recette-Motif"
BILLABLE_LABEL = "environnement de recette"
EMBEDDED_REASON = "référence embarquée : aucune plateforme de titulaire n'a traité de données"
LEGACY_LEDGER_FIELDS = ("idExecution", "date", "cible", "motif", "facturable", "depotsEnvoyes", "octetsEnvoyes")
"""The ledger's columns before the reason of a non-billable line: old ledgers are still read."""
LEDGER_FIELDS = (*LEGACY_LEDGER_FIELDS, "raisonNonFacturable")
BILLING_ZONE = ZoneInfo("Europe/Paris")
"""Where a run's day and month are read: a run at 23:30 UTC on 31 March is billed in April."""
BILLING_SUMMARY_FIELDS = ("mois", "motif", "facturable", "executions", "depots", "octets")
"""The columns of `summarize`'s rows (`recette billing`)."""
REFERENCE_KINDS = {"evolution": "demande d'évolution", "build": "phase de construction"}
_MOTIF = re.compile(r"^(recette|(evolution|build):[A-Za-z0-9][A-Za-z0-9._-]{0,63})$")


class MotifError(ValueError):
    """A motif that is neither `recette`, `evolution:REF` nor `build:REF`."""


@dataclass(frozen=True)
class BillingTags:
    """The tags of one run (étiquettes de facturation)."""

    run_id: str
    motif: str
    exemption: str | None = None
    """Why a `recette` run is not billable all the same (the embedded reference); None: its motif decides."""

    @classmethod
    def create(cls, motif: str = "recette", run_id: str | None = None) -> BillingTags:
        if not _MOTIF.match(motif):
            raise MotifError(f"motif invalide « {motif} » : attendu recette, evolution:REF ou build:REF")
        return cls(run_id or new_run_id(), motif)

    def on_embedded_reference(self) -> BillingTags:
        """The same tags for a run on the embedded reference: not billable, with the reason."""
        return replace(self, exemption=EMBEDDED_REASON)

    @property
    def billable(self) -> bool:
        return self.motif == "recette" and self.exemption is None

    @property
    def reason(self) -> str:
        """Why the run is not billable (empty when it is)."""
        if self.exemption is not None:
            return self.exemption
        if self.reference is None:
            return ""
        return f"{REFERENCE_KINDS[self.motif.split(':', 1)[0]]} {self.reference}"

    @property
    def reference(self) -> str | None:
        """The evolution request or build phase the run belongs to."""
        return self.motif.split(":", 1)[1] if ":" in self.motif else None

    @property
    def label(self) -> str:
        if self.billable:
            return BILLABLE_LABEL
        return f"non facturable — {self.exemption or self.motif}"

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

    def billing(self) -> dict[str, Any]:
        """What billing.json says of the run besides its figures."""
        return {"libelle": self.label, "reference": self.reference, "raisonNonFacturable": self.reason}


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
            "raisonNonFacturable": self.tags.reason,
        }


def append_to_ledger(ledger: Path, line: LedgerLine) -> None:
    """Append one line, after the header when the ledger is new or its last header is an older one (a ledger
    is read header by header). Lines are never rewritten."""
    ledger.parent.mkdir(parents=True, exist_ok=True)
    headed = ledger.exists() and _last_header(ledger) == LEDGER_FIELDS
    with ledger.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=LEDGER_FIELDS)
        if not headed:
            writer.writeheader()
        writer.writerow(line.row())


def read_ledger(ledger: Path) -> list[dict[str, str]]:
    """Every line of the ledger, in the current columns (an older line has no reason: empty)."""
    rows: list[dict[str, str]] = []
    fields: tuple[str, ...] | None = None
    with ledger.open(newline="", encoding="utf-8") as handle:
        for number, cells in enumerate(csv.reader(handle), start=1):
            if tuple(cells) in (LEDGER_FIELDS, LEGACY_LEDGER_FIELDS):
                fields = tuple(cells)
            elif fields is None or len(cells) != len(fields):
                raise ValueError(f"{ledger} n'est pas un registre de facturation (ligne {number} inattendue)")
            else:
                rows.append(dict.fromkeys(LEDGER_FIELDS, "") | dict(zip(fields, cells, strict=True)))
    return rows


def _last_header(ledger: Path) -> tuple[str, ...] | None:
    with ledger.open(newline="", encoding="utf-8") as handle:
        headers = [tuple(c) for c in csv.reader(handle) if tuple(c) in (LEDGER_FIELDS, LEGACY_LEDGER_FIELDS)]
    return headers[-1] if headers else None


def billing_day(row: dict[str, str]) -> date:
    """The day of a ledger line in Europe/Paris."""
    return datetime.fromisoformat(row["date"]).astimezone(BILLING_ZONE).date()


def summarize(rows: Iterable[dict[str, str]], start: date | None, end: date | None) -> list[dict[str, Any]]:
    """Billable and non-billable deposits and bytes per month (Europe/Paris), motif and billability, within
    [start, end] (days in Europe/Paris)."""
    totals: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        day = billing_day(row)
        if (start and day < start) or (end and day > end):
            continue
        key = (day.strftime("%Y-%m"), row["motif"], row["facturable"])
        total = totals.setdefault(
            key,
            dict(zip(BILLING_SUMMARY_FIELDS, (*key, 0, 0, 0), strict=True)),
        )
        total["executions"] += 1
        total["depots"] += int(row["depotsEnvoyes"])
        total["octets"] += int(row["octetsEnvoyes"])
    return [totals[key] for key in sorted(totals)]
