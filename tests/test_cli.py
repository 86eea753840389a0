"""The `recette` command as a user runs it: `serve` with its printed curl, and `run`."""

from __future__ import annotations

import html
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.foundations.billing import LEDGER_NAME
from harness.foundations.tls import RunCertificates
from tests.conftest import TESTS_DAY
from tests.helpers import free_port


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 60.0) -> str:
    """Read the process' stdout until a line holds `marker`."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError(f"{marker!r} never printed; got:\n{''.join(lines)}")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl n'est pas installé")
def test_serve_then_the_printed_curl_gives_a_202_and_the_return_is_inspectable(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    command = [
        sys.executable,
        "-m",
        "harness.cli",
        "serve",
        "--state-file",
        str(state_file),
        "--dir",
        str(tmp_path / "env"),
    ]
    env = os.environ | {"COLUMNS": "400"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        printed = read_until(process, "Ctrl-C")
        state = json.loads(state_file.read_text(encoding="utf-8"))
        assert set(state) >= {"titulaire", "asp_callback", "tls", "smtp", "oauth"}
        assert state["titulaire"]["url"].startswith("https://127.0.0.1:")
        assert oct(state_file.stat().st_mode & 0o777) == "0o600"
        secrets = [c["client_secret"] for c in state["oauth"]["clients"]]
        assert not any(secret in printed for secret in secrets), "a client secret was printed"
        curl_lines = [line for line in printed.splitlines() if line.startswith(("TOKEN=", "curl "))]
        assert len(curl_lines) == 3, printed
        deposit = subprocess.run(["bash", "-c", "\n".join(curl_lines[:2])], capture_output=True, text=True, timeout=60)
        receipt = json.loads(deposit.stdout)
        assert receipt["statut"] == "RECU", deposit.stdout + deposit.stderr
        calls: list = []
        for _ in range(100):
            inspection = subprocess.run(["bash", "-c", curl_lines[2]], capture_output=True, text=True, timeout=30)
            calls = [c for c in json.loads(inspection.stdout) if c["idDepot"] == receipt["idDepot"]]
            if calls:
                break
            time.sleep(0.1)
        assert calls
        assert calls[0]["valide"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def recette(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, timeout=600, cwd=cwd
    )


@pytest.mark.slow
def test_run_qualifies_the_reference_and_writes_every_report(tmp_path: Path) -> None:
    result = recette("run", "--report-dir", str(tmp_path), "--date", TESTS_DAY.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["qualifie"] is True
    assert summary["idExecution"] == run_dir.name
    assert summary["totaux"]["echoue"] == 0
    assert summary["totaux"]["reussi"] >= 1
    assert summary["depotsEnvoyes"] >= 1
    assert {s["suite"] for s in summary["scenarios"]} == {"bdd", "securite", "contrat", "charge", "dossiers", "papier"}
    unreadable = [s["scenario"] for s in summary["scenarios"] if "\\x" in s["scenario"] or "test_" in s["scenario"]]
    assert not unreadable, "every result reads as a sentence in the PV"
    junit = ElementTree.parse(run_dir / "junit.xml")
    properties = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert properties["recette.idExecution"] == run_dir.name
    assert properties["recette.facturable"] == "non", "no titulaire platform processed anything"
    allure_results = [json.loads(p.read_text()) for p in (run_dir / "allure-results").glob("*-result.json")]
    assert allure_results
    labels = {(label["name"], label["value"]) for label in allure_results[0]["labels"]}
    assert ("recette.motif", "recette") in labels
    assert any(name == "feature" for name, _ in labels)
    billing = json.loads((run_dir / "billing.json").read_text(encoding="utf-8"))
    assert billing["facturable"] == "non"
    assert not list(run_dir.rglob("*.key.pem")), "private keys must not land in the reports"
    assert "QUALIFIÉ" in result.stdout
    assert isinstance(summary["graineFuzzing"], int)
    assert f"Graine du fuzzing : {summary['graineFuzzing']} " in result.stdout, "the run's seed is printed"


def test_a_bad_motif_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result = recette("run", "--motif", "gratuit", "--report-dir", str(tmp_path))
    assert result.returncode != 0
    assert "motif invalide" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_an_unknown_suite_is_refused(tmp_path: Path) -> None:
    result = recette("run", "--suites", "bdd,magie", "--report-dir", str(tmp_path))
    assert result.returncode != 0
    assert "suite inconnue « magie »" in result.stderr


def test_a_platform_on_a_closed_port_cannot_run_exits_2_in_one_line_and_writes_no_report(tmp_path: Path) -> None:
    certs = RunCertificates.create(tmp_path / "pki")
    closed, receiver = free_port(), free_port()
    config = tmp_path / "recette.toml"
    config.write_text(
        f"""
[target]
url = "https://127.0.0.1:{closed}"
ca = "{certs.ca}"
[client]
cert = "{certs.asp_client.cert}"
key = "{certs.asp_client.key}"
[oauth]
token_url = "https://127.0.0.1:{closed}/token"
client_id = "asp-recette"
client_secret = "secret-de-test"
[callback]
url = "https://127.0.0.1:{receiver}"
""",
        encoding="utf-8",
    )
    reports = tmp_path / "rapports"
    result = recette("run", "--config", str(config), "--report-dir", str(reports))
    assert result.returncode == 2, result.stdout + result.stderr
    cause = f"target.url (RECETTE_TARGET) : connexion refusée par 127.0.0.1:{closed}"
    assert result.stderr.strip() == f"Recette impossible : {cause}"
    assert not (reports / LEDGER_NAME).exists(), "a run that could not run is not billed"
    written = {path.name for path in reports.rglob("*")}
    assert not written & {"summary.json", "billing.json", "pv-recette.html", "junit.xml"}, written


def test_billing_without_a_ledger_says_so(tmp_path: Path) -> None:
    result = recette("billing", "--report-dir", str(tmp_path))
    assert result.returncode != 0
    assert "registre de facturation introuvable" in result.stderr


@pytest.mark.slow
def test_a_run_narrowed_to_some_scenarios_says_so_in_its_summary_and_its_pv(tmp_path: Path) -> None:
    result = recette("run", "--suites", "bdd", "--scenarios", "initial_est", "--report-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["selection"] == "noms « initial_est »"
    assert 1 <= len(summary["scenarios"]) < 10  # the bdd suite has dozens
    pv = html.unescape((run_dir / "pv-recette.html").read_text(encoding="utf-8"))
    assert "noms « initial_est » : campagne partielle, les scénarios non retenus ne sont pas jugés" in pv


@pytest.mark.slow
def test_a_reference_sending_two_returns_is_not_qualified_and_the_pv_says_why(tmp_path: Path) -> None:
    result = recette("run", "--defaut-reference", "retour-double", "--suites", "bdd", "--report-dir", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NON QUALIFIÉ" in result.stdout
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    failed = [s for s in summary["scenarios"] if s["outcome"] == "echoue"]
    assert failed
    assert any("retour-multiple" in " ".join(s["evidence"]) for s in failed)
    # every failure shows the ASP refusing the second return (409), however its step words the defect
    assert all(" 409" in " ".join(s["evidence"]) for s in failed), [s["scenario"] for s in failed]
    pv = (run_dir / "pv-recette.html").read_text(encoding="utf-8")
    assert "NON QUALIFIÉ" in pv
    assert failed[0]["scenario"] in html.unescape(pv)
    assert "curl" in pv


def test_the_return_channel_option_is_for_the_embedded_reference_only(tmp_path: Path) -> None:
    result = recette(
        "run", "--canal-retour", "archive", "--target", "https://titulaire.example", "--report-dir", str(tmp_path)
    )
    assert result.returncode == 2, result.stderr
    assert "--canal-retour ne vaut que pour la référence embarquée" in result.stderr
