"""`recette run --config`: qualifying a platform the harness did not start, as a recette team does.

The "external" platform here is a reference titulaire started by the test on its own, configured to send
its returns to the URL of the campaign's receiver; the campaign only knows it through `recette.toml`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from harness.campaign.environment import Environment
from harness.foundations.servers import free_port
from harness.reference.versions import RELEASES
from tests.conftest import TESTS_DAY, StartEnvironment


def write_config(env: Environment, port: int, path: Path, contract: Path | None = None) -> None:
    certs = env.certs
    contract_line = f'contract = "{contract}"' if contract else ""
    path.write_text(
        f"""
[target]
url = "{env.titulaire_url}"
ca = "{certs.ca}"
{contract_line}
[client]
cert = "{certs.asp_client.cert}"
key = "{certs.asp_client.key}"
[oauth]
token_url = "{env.token_url}"
client_id = "asp-recette"
[callback]
url = "https://127.0.0.1:{port}"
cert = "{certs.server.cert}"
key = "{certs.server.key}"
""",
        encoding="utf-8",
    )


def run_against(
    env: Environment, tmp_path: Path, *options: str, contract: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], Path, dict[str, Any]]:
    """`recette run --config` on `env` as an external platform: the process, its run folder and summary."""
    port = urlsplit(env.titulaire.settings.callback_url).port or 443  # where the platform sends its returns
    config = tmp_path / "recette.toml"
    write_config(env, port, config, contract)
    command = [sys.executable, "-m", "harness.cli", "run", "--config", str(config), "--report-dir", str(tmp_path / "r")]
    command += ["--date", TESTS_DAY.isoformat()]  # the run's date is an input, never the system's by accident
    result = subprocess.run(
        [*command, *options],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | {"RECETTE_CLIENT_SECRET": env.credentials().client_secret},
    )
    assert result.returncode in (0, 3), result.stdout + result.stderr  # qualified, with reservations or not
    (run_dir,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]
    return result, run_dir, json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_a_platform_described_by_its_configuration_is_qualified(
    new_environment: StartEnvironment, tmp_path: Path
) -> None:
    env = new_environment(callback_url=f"https://127.0.0.1:{free_port()}/v1/retours")
    secret = env.credentials().client_secret
    result, run_dir, summary = run_against(env, tmp_path)
    assert summary["cible"] == env.titulaire_url
    assert summary["versionContrat"] == RELEASES["/v1"], "the contract version its health answer gives"
    assert summary["controlesPrealables"][-1].startswith("Récepteur de retours joignable")
    assert summary["totaux"]["reussi"] >= 1
    skipped = [s for s in summary["scenarios"] if s["outcome"] == "ignore"]
    reasons = [s["skip_reason"] or "" for s in skipped]
    expected = ("référence", "recette load --config", "la version 2 n'est publiée que le", "réserve")
    assert reasons
    assert all(any(e in r for e in expected) for r in reasons), reasons
    assert {s["suite"] for s in summary["scenarios"] if s["outcome"] == "reussi"} == {
        "bdd",
        "securite",
        "contrat",
        "charge",
        "papier",
    }
    assert (run_dir / "ac-recepteur.pem").exists()
    assert secret not in (run_dir / "summary.json").read_text(encoding="utf-8")
    assert secret not in result.stdout + result.stderr


@pytest.mark.slow
def test_a_platform_publishing_swagger_2_is_fuzzed_on_its_own_contract(
    new_environment: StartEnvironment, tmp_path: Path
) -> None:
    env = new_environment(callback_url=f"https://127.0.0.1:{free_port()}/v1/retours")
    contract = Path(__file__).parent / "fuzz_corpus" / "titulaire-swagger2.yaml"
    _, _, summary = run_against(env, tmp_path, "--suites", "contrat", contract=contract)
    outcomes = {s["scenario"]: (s["outcome"], s["skip_reason"]) for s in summary["scenarios"]}
    assert outcomes["GET /v1/depots/{idDepot} (consulterDepot)"] == ("reussi", None)
    assert outcomes["GET /v1/sante (consulterSante)"] == ("reussi", None)
    assert not any("deposerPieces" in name for name in outcomes)
    sequences = outcomes["Séquences par les liens du contrat"]
    assert sequences[0] == "ignore"
    assert "aucun lien" in sequences[1]


def test_a_missing_setting_is_refused_before_any_traffic(tmp_path: Path) -> None:
    config = tmp_path / "recette.toml"
    config.write_text('[target]\nurl = "https://titulaire.example"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--config", str(config), "--report-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "réglage manquant" in result.stderr
    assert "RECETTE_CA" in result.stderr
    assert not (tmp_path / "r").exists()
