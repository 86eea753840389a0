"""Every report of a run, registered here: a new report is one new module and one line below.

The run emits its events once (`harness.campaign.events`); each report in `REPORTS` is an independent
handler of that stream. Allure results and junit.xml are written during the run by their pytest plugins,
from the same test items with the same labels: `PYTEST_REPORTS` gives the arguments that turn them on.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.campaign.events import Handler
from harness.campaign.reports.billing import write_billing
from harness.campaign.reports.pv import write_pv
from harness.campaign.reports.summary import write_summary
from harness.campaign.reports.terminal import Terminal
from harness.campaign.reports.written import Destination, at_end

REPORTS: tuple[Callable[[Destination], Handler], ...] = (
    Terminal,  # progress while the run goes, then the table of results and the verdict
    at_end(write_summary),  # summary.json
    at_end(write_billing),  # billing.json and the line of the billing ledger
    at_end(write_pv),  # pv-recette.html
)


def allure_results(destination: Destination) -> list[str]:
    """allure-pytest: one result per test, labelled with the billing tags (allure-results/)."""
    return [f"--alluredir={destination.run_dir / 'allure-results'}"]


def junit_xml(destination: Destination) -> list[str]:
    """pytest's junitxml: junit.xml, the billing tags as properties of each test case."""
    return [
        f"--junitxml={destination.run_dir / 'junit.xml'}",
        "-o", "junit_family=xunit1",
        "-o", "junit_suite_name=recette",
    ]  # fmt: skip


PYTEST_REPORTS: tuple[Callable[[Destination], list[str]], ...] = (allure_results, junit_xml)


def report_handlers(destination: Destination) -> list[Handler]:
    """A handler of every report, writing into `destination`."""
    return [report(destination) for report in REPORTS]


def pytest_report_args(destination: Destination) -> list[str]:
    """The pytest arguments of the reports its plugins write."""
    return [arg for report in PYTEST_REPORTS for arg in report(destination)]
