"""The terminal, a handler of the run's stream: a live progress bar (stderr), then the verdict (stdout).

It takes pytest's own terminal's place (`-p no:terminal`); suites that cannot be read are printed, not
swallowed.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.campaign.events import (
    Event,
    PreflightPassed,
    ResultRecorded,
    RunAborted,
    RunFinished,
    RunStarted,
    SuitesCollected,
)
from harness.campaign.reports.written import Destination
from harness.campaign.results import FAILED, PASSED, RESERVED, SKIPPED, CampaignReport, Verdict
from harness.fuzzing.settings import VARIABLES as FUZZ_VARIABLES
from harness.load.charge import failure_lines

VERDICTS = {
    PASSED: "[green]réussi[/]",
    FAILED: "[red]échoué[/]",
    RESERVED: "[magenta]réserve[/]",
    SKIPPED: "[yellow]ignoré[/]",
}
COLOURS = {Verdict.QUALIFIED: "green", Verdict.QUALIFIED_WITH_RESERVATIONS: "magenta", Verdict.NOT_QUALIFIED: "red"}


class Terminal:
    """The progress over the collected tests while the run goes, and the table of its results at its end."""

    def __init__(self, destination: Destination, console: Console | None = None) -> None:
        self._destination = destination
        self._console = console or Console()
        self._progress = Progress(
            TextColumn("[bold]Recette[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
            TimeElapsedColumn(), console=Console(stderr=True), transient=True,
        )  # fmt: skip
        self._task = self._progress.add_task("préparation…", total=None)
        self._failed = 0

    def handle(self, event: Event) -> None:
        match event:
            case RunStarted(report=report):
                if (seed := report.fuzz_seed) is not None:
                    self._console.print(f"Graine du fuzzing : {seed} ({FUZZ_VARIABLES['seed']}={seed} pour la rejouer)")
                self._progress.start()
            case PreflightPassed(checks=checks):
                for check in checks:
                    self._progress.console.print(f"[green]Contrôle préalable[/] {check}")
            case SuitesCollected(planned=planned, unreadable=unreadable):
                for suite in unreadable:
                    self._progress.console.print(f"[red]Suite illisible :[/] {suite.nodeid}\n{suite.text}")
                self._progress.update(self._task, total=planned, description="")
            case ResultRecorded(result=result):
                self._failed += result.outcome == FAILED
                description = f"{result.scenario[:60]} — {self._failed} échec(s)"
                self._progress.update(self._task, advance=1, description=description)
            case RunAborted():
                self._progress.stop()
            case RunFinished(report=report):
                self._progress.stop()
                self._print(report)

    def _print(self, report: CampaignReport) -> None:
        table = Table(title=f"Campagne {report.tags.run_id} — {report.target}")
        for column in ("Capacité", "Scénario", "Verdict"):
            table.add_column(column, overflow="fold")
        for result in report.results:
            table.add_row(result.capability, result.scenario, VERDICTS[result.outcome])
        self._console.print(table)
        for failure in report.failures:
            evidence = "; ".join(failure.evidence)[-500:]
            self._console.print(f"[red]Échec[/] {failure.scenario} : {failure.failed_step or ''} — {evidence}")
        for line in failure_lines(report.load or {}):  # locust's failures, grouped by error, one line each
            self._console.print(f"[red]Échec de charge :[/] {line}", soft_wrap=True)
        for violation in report.contract_violations:
            self._console.print(f"[red]Écart au contrat :[/] {violation}")
        for reserved in report.reservations:
            self._console.print(
                f"[magenta]Réserve[/] {reserved.scenario} : {reserved.skip_reason} — pour la lever : {reserved.lift}"
            )
        counts, verdict = report.counts(), report.verdict
        self._console.print(
            f"{counts[PASSED]} réussi(s), {counts[FAILED]} échoué(s), {counts[RESERVED]} réserve(s), "
            f"{counts[SKIPPED]} ignoré(s) — [{COLOURS[verdict]}]{verdict.label}[/]"
        )
        self._console.print(f"Rapports : {self._destination.run_dir}")
