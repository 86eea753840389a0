"""summary.json: the machine-readable verdict of a run."""

from __future__ import annotations

import json
from pathlib import Path

from harness.campaign.reports.written import Destination
from harness.campaign.results import CampaignReport


def write_summary(report: CampaignReport, destination: Destination) -> Path:
    path = destination.run_dir / "summary.json"
    path.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
