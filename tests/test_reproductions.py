"""Each failure's reproduction script: its body beside it, the run's configuration paths, the right request; run
against a live environment, it shows the failure."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from harness.campaign.config import RunConfig
from harness.campaign.environment import Environment
from harness.campaign.reproduction import Failure, deposits_named, of_returns, slug, write_script
from harness.campaign.results import CampaignReport
from harness.campaign.runner import RunOptions, run_campaign
from harness.conformance.returns import SINGLE
from harness.foundations.billing import BillingTags
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.foundations.resources import project_folder
from harness.foundations.tls import RunCertificates
from tests.conftest import TESTS_DAY, metadonnees, pdf, start_environment
from tests.helpers import free_port

FAULTS = ("depot-inconnu-en-400", "retour-double")
"""A wrong status on a request, and a second return for every deposit."""
SCENARIOS = "initial_est or refuse_la_demande"
"""The two scenarios these faults fail."""
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl n'est pas installé")


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[CampaignReport, Path]:
    """A campaign on the embedded reference with both faults armed, narrowed to the two scenarios they fail."""
    reports = tmp_path_factory.mktemp("rapports")
    options = RunOptions(
        reports,
        BillingTags.create("build:tests-reproductions"),
        suites=("bdd",),
        reference_faults=FAULTS,
        keywords=SCENARIOS,
        day=TESTS_DAY,
    )
    report = run_campaign(options)
    return report, reports / report.tags.run_id


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Environment, Path]]:
    """A live environment with the same faults, as `recette serve --dir` runs it, and its state file."""
    folder = tmp_path_factory.mktemp("vivant")
    env = start_environment(folder / "env", faults=FAULTS)
    try:
        env.write_state(folder / "etat.json")
        yield env, folder / "etat.json"
    finally:
        env.stop()


@pytest.fixture(scope="module")
def live_state(live: tuple[Environment, Path]) -> Path:
    return live[1]


@contextlib.contextmanager
def external_platform(folder: Path, faults: tuple[str, ...] = ()) -> Iterator[tuple[Environment, RunConfig]]:
    """The reference started on its own (with `faults`) as a real platform, and the `recette.toml` settings of a
    campaign on it: the platform sends its returns to the campaign's receiver, at a port chosen here."""
    port = free_port()
    env = start_environment(folder / "plateforme", callback_url=f"https://127.0.0.1:{port}/v1/retours", faults=faults)
    certs = env.certs
    config = RunConfig(
        target=env.titulaire_url,
        ca=certs.ca,
        client_cert=certs.asp_client.cert,
        client_key=certs.asp_client.key,
        token_url=env.token_url,
        client_id="asp-recette",
        client_secret=env.credentials().client_secret,
        callback_url=f"https://127.0.0.1:{port}",
        callback_cert=certs.server.cert,
        callback_key=certs.server.key,
    )
    try:
        yield env, config
    finally:
        env.stop()


def external_run(folder: Path, config: RunConfig) -> tuple[CampaignReport, Path]:
    """The campaign's `bdd` suite, narrowed to `SCENARIOS`, on the platform `config` describes; its run folder."""
    tags = BillingTags.create("build:tests-externe")
    options = RunOptions(folder, tags, suites=("bdd",), config=config, keywords=SCENARIOS, day=TESTS_DAY)
    report = run_campaign(options)
    return report, folder / report.tags.run_id


@pytest.fixture(scope="module")
def external_failed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CampaignReport, Path, RunConfig]]:
    """A campaign on the reference run as a real platform with the wrong status armed; the platform stays live."""
    folder = tmp_path_factory.mktemp("externe")
    with external_platform(folder, ("depot-inconnu-en-400",)) as (_, config):
        report, run_dir = external_run(folder / "rapports", config)
        yield report, run_dir, config


def script_of(report: CampaignReport, run_dir: Path, scenario: str) -> Path:
    (failure,) = [f for f in report.failures if f.scenario.startswith(scenario)]
    assert failure.reproduction_script is not None
    return run_dir / failure.reproduction_script


def run_script(script: Path, state: Path) -> subprocess.CompletedProcess[str]:
    environ = os.environ | {"ETAT": str(state), "ATTENTE": "30"}
    return subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=120, env=environ)


def test_each_failure_has_its_script_and_nothing_of_the_run_s_temporary_folder(
    failed_run: tuple[CampaignReport, Path],
) -> None:
    report, run_dir = failed_run
    assert len(report.failures) == 2
    scripts = sorted((run_dir / "reproductions").glob("*.sh"))
    assert [p.relative_to(run_dir).as_posix() for p in scripts] == sorted(
        f.reproduction_script or "" for f in report.failures
    )
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        assert script.stat().st_mode & 0o111
        assert "recette-env-" not in text  # the embedded run's temporary folder
        assert "ETAT" in text
        assert "recette serve --dir" in text
        assert "\r" not in text
        assert subprocess.run(["sh", "-n", str(script)], capture_output=True).returncode == 0
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path


def test_a_deposit_s_body_is_a_file_beside_its_script(failed_run: tuple[CampaignReport, Path]) -> None:
    report, run_dir = failed_run
    script = script_of(report, run_dir, "Un dépôt initial")
    body = script.with_name(script.name[:3] + "-corps.bin")
    assert body.read_bytes().startswith(b"--")
    assert b"\r\n" in body.read_bytes()
    assert f'--data-binary @"$ICI/{body.name}"' in script.read_text(encoding="utf-8")


@needs_curl
def test_a_wrong_answer_s_script_replays_the_request_and_shows_the_wrong_status(
    failed_run: tuple[CampaignReport, Path], live_state: Path
) -> None:
    report, run_dir = failed_run
    result = run_script(script_of(report, run_dir, "Le titulaire refuse la demande : dépôt inconnu"), live_state)
    assert result.returncode == 0, result.stderr
    status_line = result.stdout.splitlines()[0]
    assert status_line.split()[1] == "400"  # the scenario expects 404 « depot-inconnu »
    assert '"code":"parametre-invalide"' in result.stdout


@needs_curl
def test_a_second_return_s_script_shows_both_returns_at_the_receiver(
    failed_run: tuple[CampaignReport, Path], live_state: Path
) -> None:
    report, run_dir = failed_run
    script = script_of(report, run_dir, "Un dépôt initial")
    text = script.read_text(encoding="utf-8")
    assert "/_inspection/retours?idDepot=" in text
    result = run_script(script, live_state)
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout.strip().splitlines()[-1])  # the fresh environment's deposit, made again
    assert len({call["idRetour"] for call in calls}) == 2
    assert [call["statutHttp"] for call in calls] == [202, 409]
    assert calls[1]["violations"] == ["retour-multiple"]


@needs_curl
def test_a_real_platform_s_script_run_against_it_shows_the_wrong_status(
    external_failed_run: tuple[CampaignReport, Path, RunConfig],
) -> None:
    """The script of a run with `recette.toml` needs only the client's secret, as the recette team has it."""
    report, run_dir, config = external_failed_run
    script = script_of(report, run_dir, "Le titulaire refuse la demande : dépôt inconnu")
    assert "ETAT" not in script.read_text(encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k != "ETAT"} | {"RECETTE_CLIENT_SECRET": config.client_secret}
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=120, env=environ)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[1] == "400"  # the scenario expects 404 « depot-inconnu »
    assert '"code":"parametre-invalide"' in result.stdout


@needs_curl
def test_a_second_return_s_script_on_the_environment_that_saw_the_deposit_shows_both_returns_without_a_new_one(
    live: tuple[Environment, Path], tmp_path: Path
) -> None:
    env, state = live
    with env.asp_client() as client, env.inspector() as inspector:
        receipt = client.deposit(metadonnees(), [pdf()])
        id_depot = receipt.json()["idDepot"]
        inspector.wait_for_return(id_depot, count=2)
    observed = f"{id_depot} : {SINGLE} : 2 retour(s) différent(s)"
    failure = Failure(1, "Un dépôt initial est reçu", None, observed, None, [id_depot], receipt.request)
    reproduction = write_script(failure, tmp_path, None, contract_path(SERVICE_CONTRACT))
    result = run_script(tmp_path / reproduction.script, state)
    assert result.returncode == 0, result.stderr
    assert "Nouveau dépôt" not in result.stdout, "the receiver knows the deposit: nothing is deposited again"
    heading, journal = result.stdout.splitlines()[:2]
    assert heading == f"Retours reçus pour le dépôt {id_depot} :"
    assert [call["statutHttp"] for call in json.loads(journal)] == [202, 409]


def test_a_failure_with_no_request_to_replay_gets_a_script_that_says_so(tmp_path: Path, live_state: Path) -> None:
    failure = Failure(2, "Les contrôles de sécurité", None, "le contrôle n'a envoyé aucune requête", None)
    reproduction = write_script(failure, tmp_path, None, contract_path(SERVICE_CONTRACT))
    assert reproduction.command == ""
    result = run_script(tmp_path / reproduction.script, live_state)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Aucune requête à rejouer : voir les constats du procès-verbal.\n"


def test_a_real_platform_s_script_takes_the_paths_of_its_configuration_and_never_the_secret(tmp_path: Path) -> None:
    certs = RunCertificates.create(tmp_path / "tls")
    config = RunConfig(
        target="https://titulaire.example",
        ca=certs.ca,
        client_cert=certs.asp_client.cert,
        client_key=certs.asp_client.key,
        token_url="https://idp.titulaire.example/token",
        client_id="asp-recette",
        client_secret="secret-qui-ne-sort-pas",
        callback_url="https://retours.asp.example",
    )
    request = httpx.Request("GET", "https://titulaire.example/v1/depots/inconnu", headers={"Authorization": "x"})
    failure = Failure(7, "Un dépôt inconnu", "Alors le titulaire répond 404", "statut 400 au lieu de 404", request)
    reproduction = write_script(failure, tmp_path / "run", config, contract_path(SERVICE_CONTRACT))
    text = (tmp_path / "run" / reproduction.script).read_text(encoding="utf-8")
    assert reproduction.script == "reproductions/007-un-depot-inconnu.sh"
    for path in (certs.ca, certs.asp_client.cert, certs.asp_client.key):
        assert str(path.resolve()) in text
    assert "CIBLE=https://titulaire.example" in text
    assert "RECETTE_CLIENT_SECRET" in text
    assert "secret-qui-ne-sort-pas" not in text
    assert "ETAT" not in text  # a request of the platform needs nothing of the harness's environment
    assert '"$CIBLE"/v1/depots/inconnu' in reproduction.command
    assert '"Authorization: Bearer $TOKEN"' in reproduction.command


def test_which_failures_are_about_returns_and_which_deposits_they_name() -> None:
    known = ["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"]
    message = f"{known[1]} : retour-unique : 2 retour(s) différent(s)"
    assert of_returns(message)
    assert not of_returns("statut 400 au lieu de 404")
    assert not of_returns("retour-uniquement")  # a rule is a whole word
    assert deposits_named(message, known) == [known[1]]
    assert deposits_named("aucun identifiant", known) == known
    assert slug("Le titulaire refuse la demande : dépôt inconnu") == "le-titulaire-refuse-la-demande-depot-inconnu"


def test_the_run_s_junit_names_each_scenario_at_its_line_of_the_project_s_feature(
    failed_run: tuple[CampaignReport, Path],
) -> None:
    report, run_dir = failed_run
    cases = list(ElementTree.parse(run_dir / "junit.xml").getroot().iter("testcase"))
    assert {c.get("name") for c in cases} == {r.scenario for r in report.results}
    for case in cases:
        feature = project_folder("features") / Path(case.get("file") or "").name
        assert case.get("file") == f"features/{feature.name}"
        title = feature.read_text(encoding="utf-8").splitlines()[int(case.get("line") or 0) - 1]
        assert title.strip().lower().startswith(("scénario", "plan du scénario")), title
