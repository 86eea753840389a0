"""billing.json and the run's line in the append-only billing ledger."""

from __future__ import annotations

import json
from pathlib import Path

from harness.campaign.results import CampaignReport
from harness.foundations.billing import LedgerLine, append_to_ledger


def write_billing(report: CampaignReport, run_dir: Path, ledger: Path) -> Path:
    line = LedgerLine(report.tags, report.started, report.target, report.deposits_sent, report.bytes_sent)
    billing = line.row() | {"libelle": report.tags.label, "reference": report.tags.reference}
    path = run_dir / "billing.json"
    path.write_text(json.dumps(billing, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    append_to_ledger(ledger, line)
    return path
