"""Billing that adds up: one run's figures agree in summary.json, billing.json, the ledger and the PV; the load
traffic is metered with the scenarios'; runs on the embedded reference are not billable; months are Paris's."""

from __future__ import annotations

import csv
import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.campaign.reports.billing import write_billing
from harness.campaign.reports.french import number as french_number
from harness.campaign.reports.written import Destination
from harness.campaign.results import CampaignReport
from harness.campaign.runner import RunOptions, run_campaign
from harness.cli.run import billing
from harness.foundations.billing import (
    EMBEDDED_REASON,
    LEDGER_NAME,
    LEGACY_LEDGER_FIELDS,
    BillingTags,
    LedgerLine,
    append_to_ledger,
    read_ledger,
    summarize,
)
from tests.helpers import TESTS_DAY, ManualClock

SMALL_LIMIT = 120_000
"""The reference's transaction limit in the run below: its load deposits stay small."""


@pytest.fixture(scope="module")
def one_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[CampaignReport, Path]:
    """One campaign on the embedded reference: one deposit scenario, the `charge` suite (a short load) and one
    pli of one page (`papier`)."""
    report_dir = tmp_path_factory.mktemp("rapports")
    options = RunOptions(
        report_dir,
        BillingTags.create("recette"),
        ("bdd", "charge", "papier"),
        keywords="initial_est or qualite_de_service or une_fois_avec",
        day=TESTS_DAY,
        reference_settings={"limit_bytes": SMALL_LIMIT},
    )
    report = run_campaign(options)
    return report, report_dir


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_one_run_s_figures_agree_in_the_summary_the_billing_the_ledger_and_the_pv(
    one_run: tuple[CampaignReport, Path],
) -> None:
    report, report_dir = one_run
    run_dir = report_dir / report.tags.run_id
    summary, bill = read_json(run_dir / "summary.json"), read_json(run_dir / "billing.json")
    (line,) = read_ledger(report_dir / LEDGER_NAME)
    figures = (summary["depotsEnvoyes"], summary["octetsEnvoyes"])
    assert (bill["depotsEnvoyes"], bill["octetsEnvoyes"]) == figures
    assert (int(line["depotsEnvoyes"]), int(line["octetsEnvoyes"])) == figures
    pv = (run_dir / "pv-recette.html").read_text(encoding="utf-8")
    assert f"{french_number(figures[0])} dépôt" in pv
    assert f"{french_number(figures[1])} octets)" in pv
    per_suite = summary["envoisParSuite"]
    assert per_suite == bill["envoisParSuite"]
    assert set(per_suite) == {"bdd", "charge", "papier"}
    assert per_suite["papier"]["depots"] == 1  # the pli, digitized into one deposit of the titulaire
    assert per_suite["papier"]["octets"] > 0
    assert sum(s["depots"] for s in per_suite.values()) == figures[0]
    assert sum(s["octets"] for s in per_suite.values()) == figures[1]
    sent = summary["charge"]["envoi"]  # what locust counted: the load's accepted deposits are billed
    assert per_suite["charge"] == sent
    assert sent["depots"] >= 1
    assert sent["octets"] > sent["depots"] * (SMALL_LIMIT // 2)


@pytest.mark.slow
def test_a_run_on_the_embedded_reference_is_not_billable_and_says_why(one_run: tuple[CampaignReport, Path]) -> None:
    report, report_dir = one_run
    run_dir = report_dir / report.tags.run_id
    summary, bill = read_json(run_dir / "summary.json"), read_json(run_dir / "billing.json")
    (line,) = read_ledger(report_dir / LEDGER_NAME)
    assert summary["facturable"] is False
    assert (bill["facturable"], bill["raisonNonFacturable"]) == ("non", EMBEDDED_REASON)
    assert (line["facturable"], line["raisonNonFacturable"]) == ("non", EMBEDDED_REASON)
    assert EMBEDDED_REASON in html.unescape((run_dir / "pv-recette.html").read_text(encoding="utf-8"))
    assert all(r.outcome == "reussi" for r in report.results), [r.evidence for r in report.results]


def test_the_embedded_reference_s_exemption_overrides_a_recette_motif_only() -> None:
    recette, evolution = BillingTags.create("recette"), BillingTags.create("evolution:EVO-7")
    assert recette.billable
    assert recette.reason == ""
    embedded = recette.on_embedded_reference()
    assert not embedded.billable
    assert embedded.labels()["recette.facturable"] == "non"
    assert embedded.headers() == recette.headers(), "the wire carries the run and its motif, unchanged"
    assert evolution.reason == "demande d'évolution EVO-7"
    assert evolution.on_embedded_reference().reason == EMBEDDED_REASON


def report_at(moment: datetime, tags: BillingTags, report_dir: Path) -> CampaignReport:
    (report_dir / tags.run_id).mkdir()
    return CampaignReport(tags, "https://titulaire.example", "1.0.0", moment, deposits_sent=2, bytes_sent=300)


def test_a_run_at_23_30_utc_on_31_march_is_billed_in_april_in_paris(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2027, 3, 31, 23, 30, tzinfo=UTC))
    tags = BillingTags.create("recette", run_id="run-fin-de-mois")
    write_billing(report_at(clock(), tags, tmp_path), Destination(tmp_path, tags.run_id))
    (month,) = summarize(read_ledger(tmp_path / LEDGER_NAME), None, None)
    assert (month["mois"], month["depots"], month["octets"], month["facturable"]) == ("2027-04", 2, 300, "oui")
    runner = CliRunner()
    april = runner.invoke(billing, ["--report-dir", str(tmp_path), "--from", "2027-04-01", "--format", "json"])
    assert april.exit_code == 0, april.output
    assert [m["mois"] for m in json.loads(april.stdout)] == ["2027-04"]


def test_a_period_without_a_run_is_said_in_one_line(tmp_path: Path) -> None:
    tags = BillingTags.create("recette", run_id="run-avril")
    write_billing(report_at(datetime(2027, 4, 10, 9, tzinfo=UTC), tags, tmp_path), Destination(tmp_path, tags.run_id))
    march = ["--report-dir", str(tmp_path), "--from", "2027-03-01", "--to", "2027-03-31"]
    result = CliRunner().invoke(billing, march)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        f"Aucune exécution du 2027-03-01 au 2027-03-31 dans {tmp_path}/{LEDGER_NAME}."
    ]
    as_json = CliRunner().invoke(billing, [*march, "--format", "json"])
    assert json.loads(as_json.stdout) == []
    assert "Aucune exécution" in as_json.stderr


def test_an_older_ledger_is_still_read_and_extended_under_its_new_header(tmp_path: Path) -> None:
    ledger = tmp_path / LEDGER_NAME
    with ledger.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LEGACY_LEDGER_FIELDS)
        writer.writerow(["ancienne", "2026-11-30T10:00:00+00:00", "https://t", "recette", "oui", "4", "800"])
    tags = BillingTags.create("recette").on_embedded_reference()
    append_to_ledger(ledger, LedgerLine(tags, datetime(2026, 12, 1, 10, tzinfo=UTC), "https://127.0.0.1:1", 1, 10))
    append_to_ledger(ledger, LedgerLine(tags, datetime(2026, 12, 2, 10, tzinfo=UTC), "https://127.0.0.1:1", 1, 10))
    old, new, newer = read_ledger(ledger)
    assert (old["idExecution"], old["facturable"], old["raisonNonFacturable"]) == ("ancienne", "oui", "")
    assert (new["facturable"], new["raisonNonFacturable"]) == ("non", EMBEDDED_REASON)
    assert newer["raisonNonFacturable"] == EMBEDDED_REASON
    assert ledger.read_text(encoding="utf-8").count("raisonNonFacturable") == 1, "one new header, then lines"
    months = summarize([old, new, newer], None, None)
    assert [(m["mois"], m["facturable"], m["executions"]) for m in months] == [
        ("2026-11", "oui", 1),
        ("2026-12", "non", 2),
    ]


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    ledger = tmp_path / LEDGER_NAME
    ledger.write_text("nom,prix\nx,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="n'est pas un registre de facturation"):
        read_ledger(ledger)
