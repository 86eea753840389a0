"""`recette run`: start what the run needs, run the suites with pytest; their results go to the reports
through the run's event stream (`harness.campaign.events`, handlers in `harness.campaign.reports`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from harness.campaign.config import RunConfig
from harness.campaign.environment import Environment, EnvironmentOptions
from harness.campaign.events import Event, EventStream, LoadMeasured, ResultRecorded
from harness.campaign.plugin import CampaignPlugin
from harness.campaign.receiver import ReturnReceiver
from harness.campaign.reports import Destination, pytest_report_args, report_handlers
from harness.campaign.results import CampaignReport
from harness.campaign.target import EmbeddedTarget, ExternalTarget, Target
from harness.foundations.billing import BillingTags
from harness.foundations.calendar import PolicyError
from harness.foundations.clock import OffsetClock, utc_now
from harness.foundations.contracts import contract_path
from harness.foundations.majors import Major, UnknownMajor, current_major

SUITES_DIR = Path(__file__).resolve().parent / "suites"
SUITES = {"bdd": "bdd", "securite": "securite", "contrat": "contrat", "charge": "charge"}


class CampaignError(Exception):
    """The campaign could not run at all (bad options, environment or suites unavailable)."""


@dataclass(frozen=True)
class RunOptions:
    """What `recette run` was asked."""

    report_dir: Path
    tags: BillingTags
    suites: tuple[str, ...] = tuple(SUITES)
    tags_expression: str | None = None
    reference_faults: tuple[str, ...] = ()
    """Deliberate defects of the embedded reference (proof that the campaign catches them)."""
    config: RunConfig | None = None
    """A real platform to qualify; None: the embedded reference."""
    keywords: str | None = None
    """A pytest `-k` expression narrowing the tests (scenarios) run."""
    service_contract: Path | None = None
    """The platform's service contract (its deadlines bound the waits); None: the ASP's default."""
    day: date | None = None
    """The date the run is judged at (`--date`: the embedded reference's clock); None: today."""
    version: str | None = None
    """The major qualified (`--version`, else `target.version`); None: the calendar's current one on `day`."""

    def judged_day(self) -> date:
        return self.day or utc_now().date()

    def major(self) -> Major:
        """The major this run qualifies, or a CampaignError when neither the option nor the calendar gives one."""
        try:
            chosen = self.version or (self.config.version if self.config else None)
            return Major(chosen) if chosen else current_major(self.judged_day())
        except (UnknownMajor, PolicyError) as error:
            raise CampaignError(str(error)) from error


def suite_paths(suites: tuple[str, ...]) -> list[Path]:
    """The pytest folders of the suites, or a CampaignError naming the unknown or missing one."""
    paths = []
    for suite in suites:
        if suite not in SUITES:
            raise CampaignError(f"suite inconnue « {suite} » : choisir parmi {', '.join(SUITES)}")
        path = SUITES_DIR / SUITES[suite]
        if not path.is_dir():
            raise CampaignError(f"la suite « {suite} » n'est pas disponible dans cette installation ({path})")
        paths.append(path)
    return paths


@dataclass(frozen=True)
class ReportAssembly:
    """The handler that files each result and the load verdict into the run's `CampaignReport`."""

    report: CampaignReport

    def handle(self, event: Event) -> None:
        if isinstance(event, ResultRecorded):
            self.report.results.append(event.result)
        elif isinstance(event, LoadMeasured):
            self.report.load = event.verdict


def run_campaign(options: RunOptions) -> CampaignReport:
    """Run the campaign on its target; every report goes into `report_dir/<run-id>/`."""
    paths = suite_paths(options.suites)
    destination = Destination(options.report_dir, options.tags.run_id)
    report = CampaignReport(options.tags, "", "", utc_now(), suites=list(options.suites))
    report.major = options.major().name
    if options.day is not None and options.day != report.started.date():
        report.judged_on = options.day
    stream = EventStream([ReportAssembly(report), *report_handlers(destination)])
    with stream.running(report):
        _run(options, paths, destination, stream, report)
    return report


def _run(
    options: RunOptions, paths: list[Path], destination: Destination, stream: EventStream, report: CampaignReport
) -> None:
    """Start the target, run the suites, complete `report` with what the target counted."""
    config = options.config
    started = _external_target(options, config, destination.run_dir) if config else None
    with started or _embedded_target(options) as target:
        if options.service_contract is not None:
            target.service_contract = options.service_contract
        report.target, report.contract_version = target.url, target.contract_version
        contract = (config.contract if config else None) or contract_path(target.major.contract)
        plugin = CampaignPlugin(lambda: target, stream, destination.run_dir, contract)
        exit_code = _run_pytest(paths, destination, plugin, options.tags_expression, options.keywords)
        report.contract_violations = list(target.reference.contract_violations) if target.reference else []
        report.deposits_sent, report.bytes_sent = target.meter.deposits, target.meter.bytes_sent
    report.finished = utc_now()
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise CampaignError(f"les suites n'ont pas pu s'exécuter (pytest : {exit_code!r})")


@contextlib.contextmanager
def _embedded_target(run: RunOptions) -> Iterator[Target]:
    """The embedded environment, in a temporary folder: its keys and data never land in the reports."""
    clock = OffsetClock.on(run.day) if run.day else OffsetClock()
    options = EnvironmentOptions(reference={"faults": run.reference_faults}, clock=clock)
    with tempfile.TemporaryDirectory(prefix="recette-env-") as directory:
        env = Environment(Path(directory), options)
        try:
            env.start()
        except (OSError, RuntimeError) as error:
            raise CampaignError(f"l'environnement embarqué n'a pas démarré : {error}") from error
        try:
            yield EmbeddedTarget(run.tags, env, major=run.major(), day=run.day)
        finally:
            env.stop()


@contextlib.contextmanager
def _external_target(run: RunOptions, config: RunConfig, run_dir: Path) -> Iterator[Target]:
    """A real platform: only our return receiver is started; its CA goes into the reports (public)."""
    with tempfile.TemporaryDirectory(prefix="recette-recepteur-") as directory:
        try:
            receiver = ReturnReceiver(config, Path(directory)).start()
        except (OSError, RuntimeError) as error:
            raise CampaignError(f"le récepteur de retours n'a pas démarré ({config.callback_url}) : {error}") from error
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(receiver.certs.ca, run_dir / "ac-recepteur.pem")
            yield ExternalTarget(run.tags, config, receiver, major=run.major(), day=run.day)
        finally:
            receiver.stop()


def _run_pytest(
    paths: list[Path],
    destination: Destination,
    plugin: CampaignPlugin,
    tags_expression: str | None,
    keywords: str | None,
) -> int:
    args = [
        *map(str, paths),
        "-c", os.devnull,  # the project's pytest settings are for its own tests, not for a campaign
        "-p", "no:cacheprovider",
        "-p", "no:terminal",  # the terminal is a report handler (harness/campaign/reports/terminal.py)
        f"--rootdir={SUITES_DIR.parent}",
        *pytest_report_args(destination),
    ]  # fmt: skip
    if tags_expression:
        args += ["-m", tags_expression]
    if keywords:
        args += ["-k", keywords]
    return pytest.main(args, plugins=[plugin])
