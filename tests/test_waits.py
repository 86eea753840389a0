"""Waits as the service contract allows, concurrently: a reference whose returns leave after 80 % of a short
`delaiMaxRetour` is qualified, its returns in flight together (`harness.campaign.ahead`); the reference's
return delay runs on its own clock."""

from __future__ import annotations

import re
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from harness.campaign.ahead import DepositsAhead
from harness.campaign.results import Verdict
from harness.campaign.runner import RunOptions, run_campaign
from harness.foundations.asp_client import AspClient
from harness.foundations.billing import BillingTags
from harness.foundations.clock import OffsetClock
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from tests.conftest import StartEnvironment, metadonnees, pdf

DEADLINE = "PT10S"
RETURN_DELAY_SECONDS = 8.0
"""80 % of `DEADLINE`: every return leaves late, yet on time."""
AWAITING_RETURNS = "test_le_retour_dun or acquitte_son_retour or suit_le_d or empreinte_concordante"
"""Five scenarios awaiting six returns (two metadata ones, the acknowledgement, two iterations, SAE)."""
AWAITED = re.compile(r"dépôt accepté le (\S+), délai maximal [^)]*\) : idRetour \S+ reçu le (\S+)")
"""The evidence of `expect_single_returns`: when the deposit was accepted and its return received."""


def short_contract() -> Path:
    text = contract_path(SERVICE_CONTRACT).read_text(encoding="utf-8")
    assert "delaiMaxRetour: PT5M" in text
    path = Path(tempfile.mkdtemp(prefix="recette-attentes-")) / "contrat-de-service.yaml"
    path.write_text(text.replace("delaiMaxRetour: PT5M", f"delaiMaxRetour: {DEADLINE}"), encoding="utf-8")
    return path


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_slow_platform_within_its_deadline_is_qualified_with_its_returns_awaited_together(tmp_path: Path) -> None:
    options = RunOptions(
        tmp_path,
        BillingTags.create("build:tests-attentes"),
        suites=("bdd",),
        keywords=AWAITING_RETURNS,
        service_contract=short_contract(),
        reference_settings={"return_delay_seconds": RETURN_DELAY_SECONDS},
    )
    started = time.monotonic()
    report = run_campaign(options)
    print(f"campagne : {time.monotonic() - started:.1f} s pour un délai de retour de {RETURN_DELAY_SECONDS:g} s")
    assert report.verdict is Verdict.QUALIFIED, [r.observed for r in report.failures]
    intervals = [
        (instant(accepted), instant(received))
        for result in report.results
        for line in result.evidence
        for accepted, received in AWAITED.findall(line)
    ]
    assert len(intervals) >= 4, intervals
    taken_back = [line for result in report.results for line in result.evidence if "(fait d'avance, à" in line]
    assert len(taken_back) == len(intervals), taken_back  # every deposit was made by the first pass
    print("délais des retours :", [round((end - start).total_seconds(), 2) for start, end in intervals], "s")
    # Awaited one after the other, a deposit would follow the previous return: here all are in flight at once.
    assert max(start for start, _ in intervals) < min(end for _, end in intervals), intervals


def test_the_return_delay_runs_on_the_references_clock(new_environment: StartEnvironment) -> None:
    clock = OffsetClock()
    env = new_environment(clock, return_delay_seconds=3600.0)
    with env.asp_client() as client, env.inspector() as inspector:
        id_depot = deposit(client)
        time.sleep(0.5)
        assert inspector.received(id_depot) == [], "returned before its delay"
        clock.advance(timedelta(hours=1))
        assert inspector.wait_for_return(id_depot, timeout=10)[0]["statutHttp"] == 202


def deposit(client: AspClient) -> str:
    response = client.deposit(metadonnees(), [pdf()])
    assert response.status_code == 202, response.text
    return str(response.json()["idDepot"])


def test_a_deposit_made_ahead_is_taken_back_only_by_its_scenario_for_the_same_request_in_order() -> None:
    pool = DepositsAhead[str](depositing=True)
    first = pool.of("a")
    first.keep("dépôt 1")
    first.keep("dépôt 2")
    pool.of("b").keep("dépôt de b")
    pool.depositing = False
    again = pool.of("a")
    assert again.take(lambda made: made == "dépôt 1") == "dépôt 1"
    assert again.take(lambda made: made == "autre requête") is None  # a request made differently is sent
    assert again.take(lambda made: True) is None  # nothing more was made ahead
    again.keep("envoyé pendant la campagne")
    assert pool.made("a") == ["dépôt 1", "dépôt 2"]


def test_a_scenario_makes_up_the_same_identifiers_in_both_passes_and_no_other_scenario_does() -> None:
    pool = DepositsAhead[str]()
    first_pass, run_proper = pool.of("a"), pool.of("a")
    made_up = [first_pass.unique("dossier"), first_pass.unique("dossier"), first_pass.unique("cle")]
    assert [run_proper.unique("dossier"), run_proper.unique("dossier"), run_proper.unique("cle")] == made_up
    assert len(set(made_up)) == 3
    assert pool.of("b").unique("dossier") != made_up[0]
    assert DepositsAhead[str]().of("a").unique("dossier") != made_up[0]  # another campaign, another salt
