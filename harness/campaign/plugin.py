"""The pytest plugin of a campaign: gives the suites their target, tags every result, collects results.

Registered by `recette run` (with the target it started) or by the suites' conftest under plain pytest
(with an embedded reference). Every test result carries the run's billing tags, as Allure labels and as
JUnit properties; scenarios tagged `@reference` are skipped, with the reason, against an external target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import allure
import httpx
import pytest
from pytest_bdd.scenario import scenario_wrapper_template_registry  # pinned: pytest-bdd internals
from pytest_bdd.utils import registry_get_safe

from harness.campaign.results import FAILED, PASSED, SKIPPED, ScenarioResult
from harness.campaign.target import Target
from harness.conformance.deposits import DepositLedger
from harness.foundations.curl import as_curl

PLUGIN_NAME = "recette-campagne"
CAMPAIGN = pytest.StashKey["CampaignPlugin"]()
REFERENCE_ONLY = "scénario réservé à l'implémentation de référence (il en pilote l'horloge, le stockage ou les pannes)"
SCENARIO = pytest.StashKey[dict[str, Any]]()
"""Per test: what the scenario hooks and steps learned (capability, scenario, failed step, evidence)."""


class CampaignPlugin:
    """One per run: `target_factory` is called once, when a suite first needs the target."""

    def __init__(
        self, target_factory: Callable[[], Target], run_dir: Path | None = None, contract: Path | None = None
    ) -> None:
        self._target_factory = target_factory
        self.contract = contract
        """The platform's own contract for the `contrat` suite (None: the ASP's titulaire contract)."""
        self._target: Target | None = None
        self.run_dir = run_dir
        """Where the run's reports go (None under plain pytest)."""
        self.results: list[ScenarioResult] = []
        self.journal: list[httpx.Request] = []
        self.load: dict[str, Any] | None = None
        """The QoS verdict of the `charge` suite, when it ran."""
        self.deposits = DepositLedger()
        """Every deposit the suites made through the target's ASP clients (their returns are judged)."""

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = self._target_factory()
            self._target.on_request = self.journal.append
            self._target.on_response = self.deposits.observe
        return self._target

    # -- hooks ---------------------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "reference: " + REFERENCE_ONLY)
        config.stash[CAMPAIGN] = self
        config.pluginmanager.import_plugin("harness.campaign.fixtures")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.journal.clear()
        self.deposits.origin = item.nodeid
        if item.get_closest_marker("reference") and self.target.reference is None:
            pytest.skip(REFERENCE_ONLY)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        """Every result of a test that used the target carries the billing tags (Allure label, JUnit property);
        a suite's plain test is filed in Allure like a scenario, under its capability and title."""
        try:
            return (yield)
        finally:
            info = item.stash.get(SCENARIO, {})
            if "capability" not in info:
                allure.dynamic.feature(_capability_of(item))
                allure.dynamic.story(info.get("scenario") or _title_of(item))
            if self._target is not None:
                for name, value in self._target.tags.labels().items():
                    allure.dynamic.label(name, value)
                    item.user_properties.append((name, value))

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Name every scenario for the reports from collection on: one skipped before it runs (@reference against
        a real platform) still appears under its capability, title and tags."""
        for item in items:
            if identity := _gherkin_identity(item):
                item.stash.setdefault(SCENARIO, {}).update(identity)

    def pytest_bdd_before_scenario(self, request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
        info = request.node.stash.setdefault(SCENARIO, {})
        info.setdefault("capability", feature.name)
        info.setdefault("scenario", scenario.name)
        info.setdefault("tags", sorted(scenario.tags))
        allure.dynamic.feature(info["capability"])
        allure.dynamic.story(info["scenario"])
        for tag in info["tags"]:
            allure.dynamic.tag(tag)

    def pytest_bdd_step_error(self, request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
        request.node.stash.setdefault(SCENARIO, {})["failed_step"] = f"{step.keyword} {step.name}"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        report: pytest.TestReport = yield
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.results.append(self._result(item, report))
        return report

    def _result(self, item: pytest.Item, report: pytest.TestReport) -> ScenarioResult:
        info = item.stash.get(SCENARIO, {})
        outcome = {"passed": PASSED, "failed": FAILED}.get(report.outcome, SKIPPED)
        result = ScenarioResult(
            suite=_suite_of(item),
            capability=info.get("capability") or _capability_of(item),
            scenario=info.get("scenario") or _title_of(item),
            outcome=outcome,
            duration_seconds=round(report.duration, 3),
            tags=info.get("tags", []),
            failed_step=info.get("failed_step"),
            evidence=list(info.get("evidence", [])),
        )
        if outcome == FAILED:
            result.evidence.append(_failure_text(report))
            result.reproduction = self._reproduction()
        elif outcome == SKIPPED and isinstance(report.longrepr, tuple):
            result.skip_reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        return result

    def _reproduction(self) -> str | None:
        if not self.journal or self._target is None:
            return None
        directory = self.run_dir / "reproductions" / f"{len(self.results) + 1:03d}" if self.run_dir else None
        return as_curl(self.journal[-1], self._target.tls_paths, directory)


def _gherkin_identity(item: pytest.Item) -> dict[str, Any] | None:
    """Capability (feature), scenario title (examples rendered) and tags (feature, scenario, examples)."""
    template = registry_get_safe(scenario_wrapper_template_registry, getattr(item, "obj", None))
    if template is None:
        return None
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example", {}) if callspec else {}
    tags = template.tags | template.feature.tags
    tags |= {tag for examples in template.examples if example in examples.as_contexts() for tag in examples.tags}
    return {"capability": template.feature.name, "scenario": template.render(example).name, "tags": sorted(tags)}


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


def _failure_text(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text[:2000]
