"""A report written once the run is over: where the run's reports go, and the handler that writes one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.campaign.events import Event, Handler, RunFinished
from harness.campaign.results import CampaignReport
from harness.foundations.billing import LEDGER_NAME


@dataclass(frozen=True)
class Destination:
    """`report_dir/<idExecution>/` for the run's reports, and the billing ledger of `report_dir`."""

    report_dir: Path
    run_id: str

    @property
    def run_dir(self) -> Path:
        return self.report_dir / self.run_id

    @property
    def ledger(self) -> Path:
        return self.report_dir / LEDGER_NAME


Writer = Callable[[CampaignReport, Destination], Path]
"""Writes one report of a finished run, and returns its path."""


@dataclass(frozen=True)
class WrittenAtEnd:
    """The handler of a file report: `write` runs once, on `RunFinished`, never for an aborted run."""

    write: Writer
    destination: Destination

    def handle(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.destination.run_dir.mkdir(parents=True, exist_ok=True)
            self.write(event.report, self.destination)


def at_end(write: Writer) -> Callable[[Destination], Handler]:
    """The factory of `write`'s handler, for the list of reports."""
    return lambda destination: WrittenAtEnd(write, destination)
