"""The pytest plugin of a campaign: gives the suites their target, tags every result, emits the results.

Registered by `recette run`, with the target it started and the run's event stream. Every test result
carries the run's billing tags, as Allure labels and as JUnit properties, and is emitted once on the stream
(`ResultRecorded`); scenarios tagged `@reference` are skipped, with the reason, against an external target.
Its `first_pass` twin runs the scenarios' deposits ahead and reports nothing (`harness.campaign.ahead`).
The suites use it through `harness.campaign.fixtures`, never directly.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import allure
import httpx
import pytest

from harness.campaign.ahead import STOPPED, DepositsAhead, runs_ahead
from harness.campaign.events import EventStream, LoadMeasured, ResultRecorded, SuitesCollected, Unreadable
from harness.campaign.reproduction import Failure, deposits_named, of_returns, write_script
from harness.campaign.reservations import Reservation
from harness.campaign.results import FAILED, PASSED, RESERVED, SKIPPED, ScenarioResult
from harness.campaign.target import Target
from harness.conformance.deposits import DEPOSIT_ROUTE, DepositLedger
from harness.foundations.curl import as_curl
from harness.foundations.resources import project_folder
from harness.security import ErrorAnswers

PLUGIN_NAME = "recette-campagne"
REFERENCE_ONLY = "scénario réservé à l'implémentation de référence (il en pilote l'horloge, le stockage ou les pannes)"
PYTEST_BDD_MARKS = frozenset({"parametrize", "usefixtures"})
"""The markers pytest-bdd puts on a scenario besides its Gherkin tags."""
_CAMPAIGN = pytest.StashKey["CampaignPlugin"]()


@dataclass
class Observation:
    """What the scenario hooks, the steps and the suite's fixtures learned about one test."""

    capability: str | None = None
    scenario: str | None = None
    tags: list[str] = field(default_factory=list)
    failed_step: str | None = None
    evidence: list[str] = field(default_factory=list)
    reproduction: httpx.Request | None = None
    """The request that reproduces a failure (None: the test's last request to the titulaire)."""
    reservation: Reservation | None = None
    """Why the test could not check what it should have (a réserve), when it could not."""


_OBSERVATION = pytest.StashKey[Observation]()


def campaign_of(config: pytest.Config) -> CampaignPlugin:
    """The campaign of this pytest session."""
    return config.stash[_CAMPAIGN]


def observation_of(item: pytest.Item) -> Observation:
    """What is known of `item` for its result (created on first use)."""
    return item.stash.setdefault(_OBSERVATION, Observation())


class CampaignPlugin:
    """One per run: `target_factory` is called once, when a suite first needs the target."""

    def __init__(
        self,
        target_factory: Callable[[], Target],
        stream: EventStream | None = None,
        run_dir: Path | None = None,
        contract: Path | None = None,
        deposits: DepositLedger | None = None,
        ahead: DepositsAhead[Any] | None = None,
        error_answers: ErrorAnswers | None = None,
    ) -> None:
        self._target_factory = target_factory
        self._target: Target | None = None
        self.stream = stream or EventStream()
        """Where every result goes (no handler under plain pytest)."""
        self.run_dir = run_dir
        """Where the run's reports go (None under plain pytest)."""
        self.contract = contract
        """The contract the run holds the platform to: its own, or the ASP's of the run's major (None: no run)."""
        self.journal: list[httpx.Request] = []
        """Every request the current test sent to the titulaire."""
        self.deposits = deposits if deposits is not None else DepositLedger()
        """Every deposit the suites made through the target's ASP clients (their returns are judged); on several
        majors, the runner gives each campaign one that knows the earlier majors' deposits."""
        self.error_answers = error_answers if error_answers is not None else ErrorAnswers()
        """Every error answer the suites received through the target's ASP clients, examined for leaks (the
        `securite` suite's leak check judges them)."""
        self.ahead = ahead if ahead is not None else DepositsAhead()
        """The deposits made ahead of the scenarios (`harness.campaign.ahead`): none under plain pytest."""
        self._recorded = 0
        self._unreadable: list[Unreadable] = []
        self._suite = ""
        """The suite of the current test: the target's deposit meter files its deposits under it."""

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = self._target_factory()
            self._target.on_request = self.journal.append
            self._target.on_response = self._observe
            self._target.meter.suite = self._suite
        return self._target

    def first_pass(self) -> CampaignPlugin:
        """The plugin of the pass that makes the deposits ahead: same target, ledgers and deposits made
        ahead, nothing reported (`harness.campaign.ahead`)."""
        return CampaignPlugin(
            self._target_factory, None, None, self.contract, self.deposits, self.ahead, self.error_answers
        )

    def _observe(self, response: httpx.Response) -> None:
        """The response hook of the target's ASP clients."""
        self.deposits.observe(response)
        self.error_answers.observe(response)

    def publish_load(self, verdict: dict[str, Any]) -> None:
        """The `charge` suite's QoS verdict, for the reports."""
        self.stream.emit(LoadMeasured(verdict))

    # -- hooks ---------------------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "reference: " + REFERENCE_ONLY)
        config.stash[_CAMPAIGN] = self
        config.pluginmanager.import_plugin("harness.campaign.fixtures")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._unreadable.append(Unreadable(report.nodeid, report.longreprtext))

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """The scenarios whose deposits were made ahead run first: nothing another scenario does to the platform
        (moving its clock, purging what expired) reaches a deposit whose return is in flight."""
        if not self.ahead.depositing:
            items.sort(key=lambda item: not self.ahead.made(item.nodeid))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.stream.emit(SuitesCollected(len(session.items), tuple(self._unreadable)))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        self.journal.clear()
        self.deposits.origin = item.nodeid
        self._suite = _suite_of(item)
        if self._target is not None:
            self._target.meter.suite = self._suite
        with _reservations(item):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        """Every result of a test that used the target carries the billing tags (Allure label, JUnit property);
        a suite's plain test is filed in Allure like a scenario, under its capability and title."""
        try:
            with _reservations(item):
                return (yield)
        finally:
            seen = observation_of(item)
            if seen.capability is None:
                allure.dynamic.feature(_capability_of(item))
                allure.dynamic.story(seen.scenario or _title_of(item))
            if self._target is not None:
                for name, value in self._target.tags.labels().items():
                    allure.dynamic.label(name, value)
                    item.user_properties.append((name, value))

    def pytest_bdd_before_scenario(self, request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
        """A scenario is named from its feature and its rendered title; a `@reference` one is skipped here,
        once named, so that the reports show it under its capability against a real platform."""
        seen = observation_of(request.node)
        seen.capability, seen.scenario = feature.name, scenario.name
        # pytest-bdd turns every Gherkin tag (feature, rule, scenario, examples) into a marker of that name:
        # the markers are the only public place where an example's tags can be read.
        seen.tags = sorted({mark.name for mark in request.node.iter_markers()} - PYTEST_BDD_MARKS)
        allure.dynamic.feature(seen.capability)
        allure.dynamic.story(seen.scenario)
        for tag in seen.tags:
            allure.dynamic.tag(tag)
        junit = request.getfixturevalue("record_xml_attribute")
        for name, value in junit_attributes(feature, scenario).items():
            junit(name, value)
        if "reference" in seen.tags and self.target.reference is None:
            pytest.skip(REFERENCE_ONLY)

    def pytest_bdd_before_step(self, step_func: Callable[..., Any]) -> None:
        """The first pass stops a scenario at its first step that is not marked `@ahead`."""
        if self.ahead.depositing and not runs_ahead(step_func):
            pytest.skip(STOPPED)

    def pytest_bdd_step_error(self, request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
        observation_of(request.node).failed_step = f"{step.keyword} {step.name}"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self._recorded += 1
            self.stream.emit(ResultRecorded(self._result(item, report)))
        return report

    def _result(self, item: pytest.Item, report: pytest.TestReport) -> ScenarioResult:
        seen = observation_of(item)
        outcome = {"passed": PASSED, "failed": FAILED}.get(report.outcome, SKIPPED)
        reservation = seen.reservation if outcome == SKIPPED else None
        result = ScenarioResult(
            suite=_suite_of(item),
            capability=seen.capability or _capability_of(item),
            scenario=seen.scenario or _title_of(item),
            outcome=outcome,
            duration_seconds=round(report.duration, 3),
            tags=list(seen.tags),
            failed_step=seen.failed_step,
            evidence=list(seen.evidence),
        )
        if outcome == FAILED:
            result.observed = failure_message(report)
            result.evidence.append(result.observed)
            self._reproduce(item, result, seen.reproduction or (self.journal[-1] if self.journal else None))
        elif reservation is not None:
            result.outcome, result.skip_reason, result.lift = RESERVED, reservation.reason, reservation.lift
        elif outcome == SKIPPED and isinstance(report.longrepr, tuple):
            result.skip_reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        return result

    def _reproduce(self, item: pytest.Item, result: ScenarioResult, request: httpx.Request | None) -> None:
        """The failure's reproduction: its script in the run's folder (a curl line only, under plain pytest)."""
        target, observed = self._target, result.observed or ""
        if target is None:
            return
        if self.run_dir is None:
            result.reproduction = as_curl(request, target.tls_paths, None) if request is not None else None
            return
        deposits: list[str] = []
        if of_returns(observed):
            mine = [d.id_depot for d in self.deposits.deposits() if d.origin == item.nodeid]
            deposits = deposits_named(observed, mine or sorted(self.deposits.known()))
        sent = [r for r in self.journal if r.method == "POST" and r.url.path.endswith(DEPOSIT_ROUTE)]
        failure = Failure(
            self._recorded, result.scenario, result.failed_step, observed, request, deposits, sent[-1] if sent else None
        )
        reproduction = write_script(failure, self.run_dir, target.config, target.service_contract)
        result.reproduction, result.reproduction_script = reproduction.command or None, reproduction.script


@contextlib.contextmanager
def _reservations(item: pytest.Item) -> Iterator[None]:
    """A `Reservation` raised by a test or its fixtures: kept for the run's reports, a skip for pytest's."""
    try:
        yield
    except Reservation as reservation:
        observation_of(item).reservation = reservation
        pytest.skip(str(reservation))


def junit_attributes(feature: Any, scenario: Any) -> dict[str, str]:
    """A scenario's test case in junit.xml: its feature's name and file, its own French title and line (not
    pytest-bdd's generated function, its module and an escaped parameter id)."""
    path = Path(feature.filename)
    shown = f"features/{path.name}" if path.parent == project_folder("features") else path.as_posix()
    return {"classname": feature.name, "name": scenario.name, "file": shown, "line": str(scenario.line_number)}


def _suite_of(item: pytest.Item) -> str:
    return "bdd" if "bdd" in item.path.parts else item.path.parent.name


def _capability_of(item: pytest.Item) -> str:
    module = getattr(item, "module", None)
    doc = (module.__doc__ or "").strip().splitlines() if module else []
    return doc[0] if doc else item.path.stem


def _title_of(item: pytest.Item) -> str:
    """A plain test's title: its docstring's first line (else its name), then its parameter id, unescaped."""
    doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip().splitlines()
    title = doc[0] if doc else getattr(item, "originalname", item.name)
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.id:
        title += " : " + callspec.id.encode("ascii", "backslashreplace").decode("unicode_escape")  # pytest escapes
    return title


def failure_message(report: pytest.TestReport) -> str:
    """A failure's own message: the assertion's text without `AssertionError: ` and pytest's introspection
    (`assert …`, `+  where …`); another exception keeps its type."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = text.removeprefix("AssertionError: ").splitlines()
    own = list(itertools.takewhile(lambda line: not line.startswith("assert "), lines)) or lines
    return "\n".join(own).strip()[:2000]
