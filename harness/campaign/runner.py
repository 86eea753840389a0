"""`recette run`: start what the run needs, run the suites with pytest; their results go to the reports
through the run's event stream (`harness.campaign.events`, handlers in `harness.campaign.reports`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from harness.campaign.asp_side import AspSideError
from harness.campaign.config import ProxyTable, RunConfig, calendar_of, split_address
from harness.campaign.depot import external_depot
from harness.campaign.environment import Environment, EnvironmentOptions
from harness.campaign.events import Event, EventStream, LoadMeasured, PreflightPassed, ResultRecorded
from harness.campaign.plugin import CampaignPlugin
from harness.campaign.preflight import preflight
from harness.campaign.receiver import ReturnReceiver
from harness.campaign.reports import Destination, pytest_report_args, report_handlers
from harness.campaign.results import (
    COEXISTENCE_SUITE,
    FAILED,
    PASSED,
    SKIPPED,
    CampaignReport,
    ScenarioResult,
)
from harness.campaign.target import EmbeddedTarget, ExternalTarget, Target
from harness.conformance import DepositLedger
from harness.conformance.coexistence import CAPABILITY, CoexistenceCheck, judge_coexistence, lifecycle_signals
from harness.foundations.billing import BillingTags
from harness.foundations.calendar import PolicyError
from harness.foundations.clock import OffsetClock, utc_now
from harness.foundations.contracts import contract_path
from harness.foundations.majors import Major, UnknownMajor, current_major
from harness.foundations.tls import CertificatePair, RunCertificates
from harness.fuzzing.settings import VARIABLES as FUZZ_VARIABLES
from harness.fuzzing.settings import FuzzSettingsError, run_seed
from harness.proxy.embedded import EmbeddedProxy
from harness.proxy.launcher import ProxyError, ProxyProcess
from harness.proxy.settings import TITULAIRE_LEG, Leg, ProxySettings
from mocks.asp import JOURNAL_FILE

SUITES_DIR = Path(__file__).resolve().parent / "suites"
SUITES = {"bdd": "bdd", "securite": "securite", "contrat": "contrat", "charge": "charge", "papier": "papier"}
SUITES = {"dossiers": "dossiers", **SUITES}
"""The archive mode (mode dossier) first: its expiry scenario moves the reference's clock past every deposit's
retention, which must not happen after the deposits whose failure `contrat` excuses by their ECHEC state."""
FUZZ_SUITE = "contrat"
"""The suite whose fuzzer takes the run's seed."""
SCENARIOS_SUITE = "bdd"
"""The suite whose deposits a first pass makes ahead (`harness.campaign.ahead`)."""


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
    versions: tuple[str, ...] = ()
    """Certifying an upgrade (`--versions v1,v2`): the campaign on each major, then their coexistence."""
    reference_settings: Mapping[str, Any] = field(default_factory=dict)
    """Other settings of the embedded reference (`ReferenceSettings`: a titulaire serving v1 only…)."""
    return_channel: str = "api"
    """`--canal-retour`: where the embedded reference returns its archives' results (`api`, `archive`)."""
    journal: bool = False
    """`--journal`: the recette proxy between the harness and the target (the embedded reference: both legs; a
    real platform: the titulaire leg)."""

    def judged_day(self) -> date:
        return self.day or utc_now().date()

    def majors(self) -> list[Major]:
        """The majors this run qualifies, or a CampaignError when neither the options nor the calendar give one."""
        try:
            if self.versions:
                return [Major(name) for name in dict.fromkeys(self.versions)]
            chosen = self.version or (self.config.version if self.config else None)
            return [Major(chosen) if chosen else current_major(self.judged_day(), calendar_of(self.config))]
        except (UnknownMajor, PolicyError) as error:
            raise CampaignError(str(error)) from error

    def major(self) -> Major:
        """The major the run starts with (the first of `majors`)."""
        return self.majors()[0]


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


@dataclass
class ReportAssembly:
    """The handler that files each result and the load verdict into the run's `CampaignReport`; with several
    majors, each result is filed under the major being run."""

    report: CampaignReport
    major: str = ""

    def handle(self, event: Event) -> None:
        if isinstance(event, ResultRecorded):
            event.result.major = self.major
            self.report.results.append(event.result)
        elif isinstance(event, LoadMeasured):
            self.report.load = event.verdict


def run_campaign(options: RunOptions) -> CampaignReport:
    """Run the campaign on its target; every report goes into `report_dir/<run-id>/`."""
    paths = suite_paths(options.suites)
    destination = Destination(options.report_dir, options.tags.run_id)
    report = CampaignReport(options.tags, "", "", utc_now(), suites=list(options.suites))
    report.major = ", ".join(m.name for m in options.majors())
    report.fuzz_seed = _fuzz_seed() if FUZZ_SUITE in options.suites else None
    if options.day is not None and options.day != report.started.date():
        report.judged_on = options.day
    report.selection = selection_of(options)
    assembly = ReportAssembly(report)
    stream = EventStream([assembly, *report_handlers(destination)])
    with stream.running(report), seeded(report.fuzz_seed):
        _run(options, paths, destination, stream, assembly)
    return report


def selection_of(options: RunOptions) -> str | None:
    """The scenarios a run was narrowed to, in French (the PV's « Sélection des scénarios »); None: all."""
    parts = [f"étiquettes « {options.tags_expression} »"] if options.tags_expression else []
    parts += [f"noms « {options.keywords} »"] if options.keywords else []
    return " et ".join(parts) or None


def _run(
    options: RunOptions, paths: list[Path], destination: Destination, stream: EventStream, assembly: ReportAssembly
) -> None:
    """Start the target, run the suites on each major, judge their coexistence, complete the report with what
    the target counted."""
    report, majors = assembly.report, options.majors()
    config = options.config
    started = _external_target(options, config, destination.run_dir) if config else None
    with started or _embedded_target(options) as target:
        if options.service_contract is not None:
            target.service_contract = options.service_contract
        report.target, report.tags = target.url, target.tags  # an embedded run's tags say it is not billable
        identify(report, config)
        if isinstance(target, ExternalTarget):
            _preflight(target, majors, report, stream)
        several, versions, made = len(majors) > 1, [], frozenset[str]()
        for major in majors:
            target.major, assembly.major = major, major.name if several else ""
            versions.append(target.contract_version)
            if several and (reason := target.not_required(major.number)):
                stream.emit(ResultRecorded(not_asked(major, reason)))
                continue
            ledger = DepositLedger(earlier=made)
            _run_suites(options, paths, destination, stream, target, ledger, several)
            made = frozenset(ledger.known() | returned_for(target))
        report.contract_version = ", ".join(versions)
        assembly.major = ""
        day = target.judged_day()
        if several:
            for check in judge_coexistence(target, majors, day):
                stream.emit(ResultRecorded(check_result(check, COEXISTENCE_SUITE, CAPABILITY)))
        elif CALENDAR_SUITE in options.suites:
            check = lifecycle_signals(target, majors[0], day)
            stream.emit(ResultRecorded(check_result(check, CALENDAR_SUITE, CALENDAR_CAPABILITY)))
        report.contract_violations = list(target.reference.contract_violations) if target.reference else []
        report.deposits_sent, report.bytes_sent = target.meter.deposits, target.meter.bytes_sent
        report.deposits_per_suite = target.meter.breakdown()
        with target.inspector() as inspector:
            report.evidence_digest = inspector.evidence_digest()["empreinte"]
    report.finished = utc_now()


def _preflight(target: ExternalTarget, majors: list[Major], report: CampaignReport, stream: EventStream) -> None:
    """A real platform's pre-flight (a `PreflightError` stops the run); its findings go to the reports.

    The embedded reference has none: the run starts it itself, and waits until it answers."""
    findings = preflight(target, majors)
    target.contract_versions = findings.contract_versions
    report.platform_version, report.preflight = findings.platform or "", findings.checks
    stream.emit(PreflightPassed(tuple(findings.checks)))


def _fuzz_seed() -> int:
    """The run's seed: `RECETTE_FUZZ_SEED`, else a new one."""
    try:
        return run_seed()
    except FuzzSettingsError as error:
        raise CampaignError(str(error)) from error


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """The suites run with `RECETTE_FUZZ_SEED` set to the run's seed (the `contrat` suite's fuzzer reads it),
    the variable as it was restored after."""
    variable = FUZZ_VARIABLES["seed"]
    if seed is None:
        yield
        return
    before = os.environ.get(variable)
    os.environ[variable] = str(seed)
    try:
        yield
    finally:
        if before is None:
            del os.environ[variable]
        else:
            os.environ[variable] = before


def _run_suites(
    options: RunOptions,
    paths: list[Path],
    destination: Destination,
    stream: EventStream,
    target: Target,
    ledger: DepositLedger,
    several: bool,
) -> None:
    """The suites on the target's current major (each major gets its own JUnit file when there are several);
    `ledger` gets this major's deposits, whose returns it judges, and knows the earlier majors' ones.

    With the `bdd` suite, a first pass makes its scenarios' deposits ahead (`harness.campaign.ahead`), so
    that their returns are awaited concurrently: the run takes about one `delaiMaxRetour`, not one per return."""
    config = options.config
    contract = (config.contract if config else None) or contract_path(target.major.contract)
    plugin = CampaignPlugin(lambda: target, stream, destination.run_dir, contract, ledger)
    if SCENARIOS_SUITE in options.suites:
        scenarios = [SUITES_DIR / SUITES[SCENARIOS_SUITE]]
        plugin.ahead.depositing = True
        try:
            first_pass = plugin.first_pass()
            _check(_run_pytest(scenarios, None, first_pass, options.tags_expression, options.keywords), target)
        finally:
            plugin.ahead.depositing = False
    junit = f"junit-{target.major.name}.xml" if several else None
    _check(_run_pytest(paths, destination, plugin, options.tags_expression, options.keywords, junit), target)


def _check(exit_code: int, target: Target) -> None:
    """A CampaignError when pytest could not run the suites at all."""
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise CampaignError(f"les suites n'ont pas pu s'exécuter en {target.major.name} (pytest : {exit_code!r})")


EMBEDDED_PLATFORM = "titulaire de référence du harnais (démarré par la campagne)"
EMBEDDED_ENVIRONMENT = "référence embarquée"


def identify(report: CampaignReport, config: RunConfig | None) -> None:
    """Who and what the run qualifies, as its configuration names them (the embedded reference otherwise)."""
    if config is None:
        report.platform_name, report.environment_label = EMBEDDED_PLATFORM, EMBEDDED_ENVIRONMENT
        return
    report.titulaire = config.titulaire or ""
    report.platform_name = config.platform_name or ""
    report.environment_label = config.environment_label


def returned_for(target: Target) -> set[str]:
    """Every idDepot the ASP side received a return for so far (the load suite's deposits are not tracked)."""
    with target.inspector() as inspector:
        return {str(call.get("idDepot")) for call in inspector.received()}


def not_asked(major: Major, reason: str) -> ScenarioResult:
    """The campaign of a major the calendar does not require on the run's date: skipped, with the reason."""
    return ScenarioResult(
        "versions", CAPABILITY, f"Campagne en version {major.name}", SKIPPED, skip_reason=f"non exigée : {reason}"
    )


CALENDAR_SUITE, CALENDAR_CAPABILITY = "contrat", "Calendrier des versions"
"""A run on one major with the `contrat` suite: the major's live headers against the calendar."""


def check_result(check: CoexistenceCheck, suite: str, capability: str) -> ScenarioResult:
    outcome = SKIPPED if check.passed is None else PASSED if check.passed else FAILED
    reason = check.evidence if check.passed is None else None
    evidence = [] if check.passed is None else [check.evidence]
    return ScenarioResult(suite, capability, check.name, outcome, evidence=evidence, skip_reason=reason)


@contextlib.contextmanager
def _embedded_target(run: RunOptions) -> Iterator[Target]:
    """The embedded environment, in a temporary folder: its keys and data never land in the reports."""
    clock = OffsetClock.on(run.day) if run.day else OffsetClock()
    journal = EmbeddedProxy(run.journal)
    reference = {**run.reference_settings, "faults": run.reference_faults, **journal.reference_settings()}
    options = EnvironmentOptions(reference=reference, clock=clock, return_channel=run.return_channel)
    with tempfile.TemporaryDirectory(prefix="recette-env-") as directory:
        env = Environment(Path(directory), options)
        try:
            env.start()
        except (OSError, RuntimeError) as error:
            raise CampaignError(f"l'environnement embarqué n'a pas démarré : {error}") from error
        try:
            target = EmbeddedTarget(run.tags, env, major=run.major(), day=run.day)
            with _journaled(journal, env, target, run.report_dir):
                yield target
        finally:
            env.stop()


@contextlib.contextmanager
def _journaled(journal: EmbeddedProxy, env: Environment, target: EmbeddedTarget, report_dir: Path) -> Iterator[None]:
    """`--journal`: the harness's clients use the proxy's titulaire leg (`target.url`), the reference posts its
    returns through it; the journal goes to the run's reports. The security suite still probes the reference
    itself (`security_target`): its TLS checks judge the titulaire's TLS, not the proxy's. The traffic is tagged
    by the harness already and the campaign writes its own ledger line: the proxy writes none."""
    try:
        with journal.started(env, report_dir, target.tags, ledger=False) as proxy:
            if proxy is not None:
                target.url = proxy.urls["titulaire"]
            yield
    except ProxyError as error:
        raise CampaignError(str(error)) from error


@contextlib.contextmanager
def _external_target(run: RunOptions, config: RunConfig, run_dir: Path) -> Iterator[Target]:
    """A real platform: only the ASP side is started (`ReturnReceiver`), announced before any suite. The journal
    of returns is kept with the reports (`asp/journal-retours.jsonl`, mode 600), as is the receiver's CA; the
    run's certificates and keys (without `callback.dir`) live in a folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="recette-recepteur-") as directory:
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            receiver = ReturnReceiver(config, Path(directory), run_dir / "asp" / JOURNAL_FILE).start()
        except (OSError, RuntimeError, AspSideError) as error:
            raise CampaignError(f"le côté ASP n'a pas démarré ({config.callback_url}) : {error}") from error
        try:
            print("\n".join(receiver.announcement()), flush=True)
            shutil.copyfile(receiver.certs.ca, run_dir / "ac-recepteur.pem")
            calendar = calendar_of(config)
            try:
                depot = external_depot(config, receiver, Path(directory), run_dir)
            except (OSError, ValueError) as error:
                raise CampaignError(f"le serveur de dépôt n'a pas démarré : {error}") from error
            try:
                target = ExternalTarget(
                    run.tags, config, receiver, major=run.major(), day=run.day, calendar=calendar, depot=depot
                )
                with _journaled_platform(run.journal, config, target, Path(directory), run_dir):
                    yield target
            finally:
                if depot is not None:
                    depot.stop()
        finally:
            receiver.stop()


@contextlib.contextmanager
def _journaled_platform(
    journal: bool, config: RunConfig, target: ExternalTarget, directory: Path, run_dir: Path
) -> Iterator[None]:
    """`--journal` on a real platform: the harness's ASP clients go to the proxy's titulaire leg (`[proxy]`), which
    presents `client.*` upstream and trusts `target.ca`; the harness reaches it with a certificate of a CA made
    for the run (in `directory`). The platform still posts its returns straight to `callback.url`: no callback
    leg (it needs the platform told to post to the proxy). The journal goes to `run_dir`."""
    if not journal:
        yield
        return
    table = config.proxy or ProxyTable()
    host, port = split_address(table.ecoute_titulaire)
    certs = RunCertificates.create(directory / "proxy", (host,))
    upstream = urlsplit(config.target)
    asp = CertificatePair(config.client_cert, config.client_key)
    settings = ProxySettings(
        run_dir,
        config.ca,
        certs.server,
        (Leg(TITULAIRE_LEG, f"https://{upstream.netloc}", asp, port, host),),
        target.tags,
        body_bytes=table.corps_max,
        refuse_over_limit=table.refuser_hors_limite,
        client_ca=certs.ca,
    )
    try:
        with ProxyProcess(settings) as proxy:
            target.url = proxy.urls[TITULAIRE_LEG] + upstream.path
            target.verify = certs.client_context(certs.asp_client)
            yield
    except ProxyError as error:
        raise CampaignError(str(error)) from error


def _run_pytest(
    paths: list[Path],
    destination: Destination | None,
    plugin: CampaignPlugin,
    tags_expression: str | None,
    keywords: str | None,
    junit: str | None = None,
) -> int:
    args = [
        *map(str, paths),
        "-c", os.devnull,  # the project's pytest settings are for its own tests, not for a campaign
        "-p", "no:cacheprovider",
        "-p", "no:terminal",  # the terminal is a report handler (harness/campaign/reports/terminal.py)
        f"--rootdir={SUITES_DIR.parent}",
        *[_junit_named(arg, junit) for arg in (pytest_report_args(destination) if destination else [])],
    ]  # fmt: skip
    if tags_expression:
        args += ["-m", tags_expression]
    if keywords:
        args += ["-k", keywords]
    return pytest.main(args, plugins=[plugin])


def _junit_named(arg: str, junit: str | None) -> str:
    """The JUnit report argument renamed `junit` (one per major), any other argument as is."""
    return arg.replace("junit.xml", junit) if junit and arg.startswith("--junitxml=") else arg
