"""The reports of a run, each an independent handler of the one `CampaignReport`.

Allure results and junit.xml are written during the run by their pytest plugins; the handlers here write
the rest once the run is over.
"""

from __future__ import annotations

from pathlib import Path

from harness.campaign.reports.billing import write_billing
from harness.campaign.reports.pv import write_pv
from harness.campaign.reports.summary import write_summary
from harness.campaign.results import CampaignReport
from harness.foundations.billing import LEDGER_NAME


def write_reports(report: CampaignReport, run_dir: Path, report_dir: Path) -> None:
    """Every report of `report` into `run_dir`, and its line in the ledger of `report_dir`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    write_summary(report, run_dir)
    write_billing(report, run_dir, report_dir / LEDGER_NAME)
    write_pv(report, run_dir)
