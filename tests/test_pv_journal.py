"""`recette run --journal`: the PV links each failure to the exchanges of its deposits in the proxy's journal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.campaign.reports.pv import PV_NAME
from harness.campaign.runner import RunOptions, run_campaign
from harness.foundations.billing import BillingTags
from harness.proxy.journal import JOURNAL_FILE, read_journal
from harness.proxy.page import PAGE_FILE
from tests.helpers import TESTS_DAY
from tests.test_pv import text_of


@pytest.mark.slow
def test_a_failure_of_a_journaled_run_lists_its_deposits_exchanges_and_links_the_journal(tmp_path: Path) -> None:
    tags = BillingTags.create("recette")
    options = RunOptions(
        tmp_path,
        tags,
        ("bdd",),
        keywords="initial_est",
        reference_faults=("retour-double",),
        day=TESTS_DAY,
        journal=True,
    )
    report = run_campaign(options)
    assert report.verdict.exit_code == 1, "the second return fails the run (retour-unique)"
    run_dir = tmp_path / tags.run_id
    html = (run_dir / PV_NAME).read_text(encoding="utf-8")
    linked = re.findall(rf'href="{PAGE_FILE}\?idDepot=([0-9a-f-]+)"', html)
    assert linked, "each failure links the journal filtered on its deposit"
    (id_depot,) = set(linked)
    assert id_depot in " ".join([*report.failures[0].evidence, report.failures[0].observed or ""])
    mine = [line for line in read_journal(run_dir / JOURNAL_FILE) if line["idDepot"] == id_depot]
    assert [line["jambe"] for line in mine].count("asp-callback") == 2, "the deposit's two returns are journaled"
    text = text_of(html)
    assert "Échanges journalisés" in text
    for line in mine:
        assert f"{line['horodatage']} {line['methode']} {line['chemin']} {line['statut']}" in text
    page = (run_dir / PAGE_FILE).read_text(encoding="utf-8")
    assert f'data-depot="{id_depot}"' in page
    assert 'demande.get("idDepot")' in page


def test_a_run_without_the_journal_links_no_exchange(tmp_path: Path) -> None:
    tags = BillingTags.create("recette")
    options = RunOptions(
        tmp_path, tags, ("bdd",), keywords="initial_est", reference_faults=("retour-double",), day=TESTS_DAY
    )
    assert run_campaign(options).verdict.exit_code == 1
    text = text_of((tmp_path / tags.run_id / PV_NAME).read_text(encoding="utf-8"))
    assert "Anomalie n° 1" in text
    assert "Échanges journalisés" not in text
