"""billing.json and the run's line in the append-only billing ledger: the figures of summary.json and the PV."""

from __future__ import annotations

import json
from pathlib import Path

from harness.campaign.reports.written import Destination
from harness.campaign.results import CampaignReport
from harness.foundations.billing import LedgerLine, append_to_ledger


def write_billing(report: CampaignReport, destination: Destination) -> Path:
    line = LedgerLine(report.tags, report.started, report.target, report.deposits_sent, report.bytes_sent)
    billing = line.row() | report.tags.billing() | {"envoisParSuite": report.deposits_per_suite}
    path = destination.run_dir / "billing.json"
    path.write_text(json.dumps(billing, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    append_to_ledger(destination.ledger, line)
    return path
