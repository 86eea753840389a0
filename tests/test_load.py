"""`recette load`: each profile runs (locust in subprocesses), writes its reports, and is judged against the QoS.

Small limits keep the runs short; no test asserts a timing.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harness.campaign.environment import Environment
from harness.campaign.load import charge_suite
from harness.campaign.target import EmbeddedTarget
from harness.cli.load import load
from harness.foundations.billing import BillingTags
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.load.charge import qos_checks
from harness.load.qos import NON_CONFORME, RETURN_TYPE, EntryFigures, QosTargets, judge, verdict
from harness.load.ramp import RampPlan, RampReport
from tests.helpers import free_port

SMALL_LIMIT = 120_000
RUN_TIMEOUT_SECONDS = 120


def recette_load(report_dir: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run `recette load` as a user does; return the process and the run's `charge/` folder."""
    command = [sys.executable, "-m", "harness.cli", "load", "--report-dir", str(report_dir), *args]
    process = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    runs = [p for p in report_dir.iterdir() if p.is_dir()]
    assert len(runs) == 1, process.stdout + process.stderr
    return process, runs[0] / "charge"


def entries(charge_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["method"], e["name"]): e for e in json.loads((charge_dir / "locust.json").read_text())}


def assert_reports_hold_requests(charge_dir: Path) -> dict[str, Any]:
    """Locust's CSV, HTML and JSON reports and the QoS verdict exist and hold requests; return qos.json."""
    with (charge_dir / "locust_stats.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Name"] != "Aggregated"]
    assert rows
    assert all(int(row["Request Count"]) > 0 for row in rows)
    assert "deposerPieces" in (charge_dir / "locust.html").read_text(encoding="utf-8")
    assert sum(e["num_requests"] for e in entries(charge_dir).values()) > 0
    qos = json.loads((charge_dir / "qos.json").read_text(encoding="utf-8"))
    assert qos["verdict"] in ("conforme", "non conforme")
    assert all(set(c) == {"nom", "attendu", "mesure", "reussi"} for c in qos["criteres"])
    assert qos["facturation"]["X-Recette-Motif"] == "recette"
    return qos


@pytest.mark.slow
def test_limite_deposits_just_under_the_limit_each_with_its_return_and_stops_at_the_request_cap(
    tmp_path: Path,
) -> None:
    process, charge_dir = recette_load(
        tmp_path, "--profile", "limite", "--users", "2", "--duration", "30s", "--max-requests", "30",
        "--limit-bytes", str(SMALL_LIMIT),
    )  # fmt: skip
    assert process.returncode in (0, 1), process.stdout + process.stderr
    qos = assert_reports_hold_requests(charge_dir)
    stats = entries(charge_dir)
    deposits, returns = stats[("POST", "deposerPieces")], stats[(RETURN_TYPE, "retour")]
    assert deposits["num_failures"] == 0
    assert returns["num_requests"] > 0
    assert returns["num_failures"] == 0
    assert sum(e["num_requests"] for e in stats.values()) <= 30 + 10, "the request cap did not stop the run"
    sent = qos["envoi"]  # the deposits just under the limit, and the small one that measured the receipt
    assert sent["depots"] == deposits["num_requests"] + 1
    assert deposits["num_requests"] * (SMALL_LIMIT - 2048) < sent["octets"] < sent["depots"] * SMALL_LIMIT
    assert {c["nom"] for c in qos["criteres"]} >= {"Taux d'erreur", "Délai maximal de retour"}
    ledger = (tmp_path / "billing-ledger.csv").read_text(encoding="utf-8")
    assert qos["idExecution"] in ledger


@pytest.mark.slow
def test_mixte_deposits_several_sizes_and_reads_states(tmp_path: Path) -> None:
    process, charge_dir = recette_load(
        tmp_path, "--profile", "mixte", "--users", "3", "--duration", "4s", "--limit-bytes", str(SMALL_LIMIT)
    )
    assert process.returncode in (0, 1), process.stdout + process.stderr
    assert_reports_hold_requests(charge_dir)
    assert entries(charge_dir)[("POST", "deposerPieces")]["num_failures"] == 0


@pytest.mark.slow
def test_horslimite_is_refused_with_413_declared_and_chunked_and_memory_is_sampled(tmp_path: Path) -> None:
    process, charge_dir = recette_load(
        tmp_path, "--profile", "horslimite", "--users", "2", "--duration", "4s", "--limit-bytes", str(SMALL_LIMIT)
    )
    assert process.returncode in (0, 1), process.stdout + process.stderr
    qos = assert_reports_hold_requests(charge_dir)
    stats = entries(charge_dir)
    for variant in ("déclaré", "chunked"):
        refused = stats[("POST", f"deposerPieces [{variant}]")]
        assert refused["num_requests"] > 0
        assert refused["num_failures"] == 0, "not every attempt got its 413"
    assert (RETURN_TYPE, "retour") not in stats
    assert qos["memoireTitulaire"]["echantillons"] > 0
    assert any(c["nom"].startswith("Croissance mémoire") for c in qos["criteres"])


@pytest.mark.slow
def test_rampe_stops_at_the_first_step_that_breaks_the_qos_and_says_where(tmp_path: Path) -> None:
    contract = tight_contract(tmp_path / "contrat-serre.yaml")
    reports = tmp_path / "rapports"
    process, charge_dir = recette_load(
        reports, "--profile", "rampe", "--users", "2", "--duration", "8s", "--limit-bytes", str(SMALL_LIMIT),
        "--service-contract", str(contract),
    )  # fmt: skip
    assert process.returncode == 1, process.stdout + process.stderr
    qos = assert_reports_hold_requests(charge_dir)
    ramp = qos["rampe"]
    assert ramp["plan"] == {"utilisateursMax": 2, "utilisateursParPalier": 1, "paliers": 2, "dureePalierS": 4.0}
    assert [step["palier"] for step in ramp["paliers"]] == [1], "the ramp went on after the QoS broke"
    assert ramp["rupture"]["utilisateurs"] == 1
    assert ramp["conclusion"].startswith("Première rupture de la QoS au palier 1 (1 utilisateur)")
    assert "Première rupture" in process.stdout


@pytest.mark.slow
def test_two_local_workers_share_the_load_and_the_master_writes_the_reports(tmp_path: Path) -> None:
    process, charge_dir = recette_load(
        tmp_path, "--profile", "limite", "--users", "2", "--workers", "2", "--duration", "3s",
        "--limit-bytes", str(SMALL_LIMIT),
    )  # fmt: skip
    assert process.returncode in (0, 1), process.stdout + process.stderr
    assert_reports_hold_requests(charge_dir)
    assert (charge_dir / "locust-travailleur-1.log").is_file()
    assert (charge_dir / "locust-travailleur-2.log").is_file()
    assert json.loads((charge_dir / "qos.json").read_text())["parametres"]["travailleurs"] == 2


@pytest.mark.slow
def test_a_configured_platform_is_loaded_with_its_own_settings(env: Environment, tmp_path: Path) -> None:
    """`--config`: the platform's URL, certificates and OAuth client; its returns go to a receiver not ours."""
    certs, client = env.certs, env.credentials()
    config = tmp_path / "recette.toml"
    config.write_text(
        f'[target]\nurl = "{env.titulaire_url}"\nca = "{certs.ca}"\n'
        f'[client]\ncert = "{certs.asp_client.cert}"\nkey = "{certs.asp_client.key}"\n'
        f'[oauth]\ntoken_url = "{client.token_url}"\nclient_id = "{client.client_id}"\n'
        f'client_secret = "{client.client_secret}"\n[callback]\nurl = "https://retours.asp.example"\n'
        f'listen = "127.0.0.1:{free_port()}"\n',
        encoding="utf-8",
    )
    reports, contract = tmp_path / "rapports", short_return_contract(tmp_path / "contrat-de-service.yaml")
    process, charge_dir = recette_load(
        reports, "--config", str(config), "--duration", "3s", "--users", "1", "--limit-bytes", str(SMALL_LIMIT),
        "--service-contract", str(contract),
    )  # fmt: skip
    assert process.returncode in (0, 1), process.stdout + process.stderr
    qos = assert_reports_hold_requests(charge_dir)
    assert qos["cible"] == env.titulaire_url
    assert entries(charge_dir)[("POST", "deposerPieces")]["num_failures"] == 0
    assert client.client_secret not in (charge_dir / "qos.json").read_text(encoding="utf-8")


def short_return_contract(path: Path) -> Path:
    """A copy of the service contract whose returns are due within 2 s (the returns of this environment go to its
    own callback, never to the run's receiver: the load run waits for them that long, no longer)."""
    document = yaml.safe_load(contract_path(SERVICE_CONTRACT).read_text(encoding="utf-8"))
    document["qualiteDeService"]["delaiMaxRetour"] = "PT2S"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def tight_contract(path: Path) -> Path:
    """A copy of the service contract promising what no deposit can hold: p95 ≤ 1 ms, returns in 0 s."""
    document = yaml.safe_load(contract_path(SERVICE_CONTRACT).read_text(encoding="utf-8"))
    document["qualiteDeService"]["latenceP95Ms"]["deposerPieces"] = 1
    document["qualiteDeService"]["delaiMaxRetour"] = "PT0S"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.slow
def test_the_campaign_charge_suite_gives_a_failing_verdict_when_the_qos_is_breached(
    env: Environment, tmp_path: Path
) -> None:
    tags = BillingTags.create()
    target = EmbeddedTarget(tags, env, major=env.current_major())
    report = charge_suite(
        target,
        tmp_path / tags.run_id,
        service_contract=tight_contract(tmp_path / "contrat-serre.yaml"),
        limit_bytes=SMALL_LIMIT,
        duration_seconds=3.0,
    )
    assert report["verdict"] == NON_CONFORME
    failed = {c["nom"] for c in report["criteres"] if not c["reussi"]}
    assert "Latence p95 de deposerPieces" in failed
    assert (tmp_path / tags.run_id / "charge" / "qos.json").is_file()
    checks = qos_checks(report)
    assert len(checks) == len(report["criteres"])
    assert not all(c.passed for c in checks)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "inconnu"], "profil inconnu « inconnu »"),
        (["--duration", "3 minutes"], "durée illisible"),
        (["--duration", "0s"], "durée nulle"),
        (["--users", "0"], "--users doit valoir au moins 1"),
        (["--target", "https://titulaire.example"], "réglage manquant : target.ca (RECETTE_CA)"),
        (["--config", "/nulle/part/recette.toml"], "fichier de configuration illisible"),
        (["--state-file", "/nulle/part/etat.json"], "fichier d'état introuvable"),
    ],
)
def test_bad_input_is_a_one_line_error(tmp_path: Path, args: list[str], message: str) -> None:
    no_config = {name: None for name in ("RECETTE_CONFIG", "RECETTE_CA", "RECETTE_TARGET")}
    result = CliRunner(env=no_config).invoke(load, [*args, "--report-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not any(tmp_path.iterdir())


def test_an_unknown_billing_motif_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner(env={"RECETTE_MOTIF": "gratuit"}).invoke(load, ["--report-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "RECETTE_MOTIF : motif invalide « gratuit »" in result.output
    assert len(result.output.splitlines()) == 1


def test_locust_and_gevent_never_enter_the_harness_process() -> None:
    assert "locust" not in sys.modules
    assert "gevent" not in sys.modules


# -- the QoS judgement, on figures given by hand --------------------------------------------------------

TARGETS = QosTargets(
    p95_ms={"deposerPieces": 2000, "consulterSante": 200}, max_error_percent=1.0, max_return_seconds=300
)


def figures(name: str, times: dict[int, int], failures: int = 0, method: str = "POST") -> EntryFigures:
    return EntryFigures(name, method, sum(times.values()), failures, times, float(max(times)))


def test_percentiles_are_computed_as_locust_does() -> None:
    entry = figures("deposerPieces", {10: 90, 500: 6, 2500: 4})
    assert entry.percentile(0.5) == 10
    assert entry.percentile(0.95) == 500
    assert entry.percentile(0.96) == 2500


def test_figures_within_the_contract_are_conforme() -> None:
    criteria = judge(
        [figures("deposerPieces", {400: 99, 1500: 1}), figures("retour", {60: 100}, method=RETURN_TYPE)], TARGETS
    )
    assert verdict(criteria) == "conforme"
    assert [c.name for c in criteria] == [
        "Requêtes mesurées sur l'API",
        "Latence p95 de deposerPieces",
        "Taux d'erreur",
        "Délai maximal de retour",
    ]


@pytest.mark.parametrize(
    ("entries_", "broken"),
    [
        ([figures("deposerPieces", {400: 90, 2600: 10})], "Latence p95 de deposerPieces"),
        ([figures("deposerPieces", {400: 100}, failures=2)], "Taux d'erreur"),
        ([figures("deposerPieces", {400: 10}), figures("retour", {400_000: 1}, method=RETURN_TYPE)], "Délai"),
        ([figures("deposerPieces", {400: 10}), figures("retour", {60: 2}, 1, method=RETURN_TYPE)], "Délai"),
        ([figures("jeton (OAuth2)", {20: 1})], "Requêtes mesurées"),
    ],
)
def test_a_breach_of_any_promise_is_non_conforme(entries_: list[EntryFigures], broken: str) -> None:
    criteria = judge(entries_, TARGETS)
    assert verdict(criteria) == NON_CONFORME
    assert next(c.name for c in criteria if not c.passed).startswith(broken)


def test_the_ramp_names_the_first_step_that_broke() -> None:
    plan = RampPlan.of(max_users=10, duration_seconds=50)
    assert (plan.step_users, plan.steps, plan.step_seconds) == (2, 5, 10.0)
    assert [plan.users_at(s) for s in range(plan.steps)] == [2, 4, 6, 8, 10]
    report = RampReport(plan, TARGETS)
    before = figures("deposerPieces", {300: 50})
    after = figures("deposerPieces", {300: 50, 2500: 50})
    assert not report.close_step(2, 0.0, [before])
    assert report.close_step(4, 10.0, [after.since(before)])
    assert report.breaking_step is not None
    assert report.breaking_step["utilisateurs"] == 4
    assert "palier 2 (4 utilisateurs)" in report.conclusion()
