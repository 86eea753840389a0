"""The live progress of a campaign (rich), fed by pytest's hooks in place of pytest's own terminal."""

from __future__ import annotations

from types import TracebackType

import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


class LiveProgress:
    """A progress bar over the collected tests; collection errors are printed, not swallowed."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("[bold]Recette[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
            TimeElapsedColumn(), console=console, transient=True,
        )  # fmt: skip
        self._task = self._progress.add_task("collecte…", total=None)
        self.failed = 0

    def __enter__(self) -> LiveProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            console.print(f"[red]Suite illisible :[/] {report.nodeid}\n{report.longreprtext}")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._progress.update(self._task, total=len(session.items), description="")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.failed += report.outcome == "failed"
            name = report.nodeid.rsplit("::", 1)[-1][:60]
            self._progress.update(self._task, advance=1, description=f"{name} — {self.failed} échec(s)")
