"""`recette plis`: posting a pli to the reference, and awaiting the plis of a platform run as an external one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.campaign.environment import Environment
from harness.cli.plis import deadline_of, plis
from harness.conformance import paper
from harness.foundations.clock import utc_now
from harness.reference.paper.letters import letter_pages
from harness.reference.paper.posting import ROUTE, Posting
from harness.reference.settings import RetryPolicy
from tests.conftest import StartEnvironment
from tests.helpers import free_port
from tests.test_external_target import write_config

LISTENING = timedelta(seconds=15)
"""How long `recette plis attendre` listens: its start-up, the posting and the returns, on a loaded machine."""
PATIENT_RETRIES = RetryPolicy(budget_seconds=30, first_delay_seconds=0.1, max_delay_seconds=0.5, timeout_seconds=5)
"""The platform retries a return until the receiver takes it, as a real one does."""
DECLARATION = """reference;dateEnvoi;dossier;pieces;types;donnees
ENV-1;2026-12-01;DOS-A;2;PDF|PDF;montant=12,00 €
ENV-2;2026-12-01;DOS-ABSENT;1;PDF;
"""


def test_a_pli_is_posted_from_the_command_line(env: Environment, tmp_path: Path) -> None:
    env.write_state(tmp_path / "etat.json")
    result = CliRunner().invoke(
        plis,
        [
            "envoyer",
            "--etat",
            str(tmp_path / "etat.json"),
            "--dossier",
            "DOS-CLI",
            "--pages",
            "2",
            "--donnee",
            "montant=3,00 €",
            "--site",
            "NANTES",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Pli PLI-NANTES-")
    with env.inspector() as inspector:
        id_depot = result.output.split("idDepot ")[1].rstrip(").\n")
        [call] = inspector.wait_for_return(id_depot)
    assert call["retour"]["metadonnees"]["identifiantDossier"] == "DOS-CLI"
    assert len(call["retour"]["pieces"]) == 2


def test_bad_inputs_are_one_line_and_exit_2(env: Environment, tmp_path: Path) -> None:
    env.write_state(tmp_path / "etat.json")
    state = ["--etat", str(tmp_path / "etat.json"), "--dossier", "D"]
    cases = [
        (["envoyer", *state, "--donnee", "sans-egal"], "CLE=VALEUR attendu"),
        (["envoyer", *state, "--donnee", "nom=日本"], "ne s'imprime pas sur le pli"),
        (["envoyer", *state, "--site", "lyon"], "site « lyon »"),
        (["envoyer", "--etat", str(tmp_path / "absent.json"), "--dossier", "D"], "fichier d'état illisible"),
        (["attendre", "--attendus", str(tmp_path / "absent.csv"), "--jusqua", "2026-12-01T10:00"], "déclaration"),
        (["attendre", "--attendus", str(tmp_path / "absent.csv"), "--jusqua", "demain"], "--jusqua « demain »"),
    ]
    for arguments, message in cases:
        result = CliRunner().invoke(plis, arguments)
        assert result.exit_code == 2, (arguments, result.output)
        assert message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_declared_plis_are_matched_and_the_missing_and_unexpected_named(
    new_environment: StartEnvironment, tmp_path: Path
) -> None:
    port = free_port()
    env = new_environment(utc_now, callback_url=f"https://127.0.0.1:{port}/v1/retours", retry=PATIENT_RETRIES)
    write_config(env, port, tmp_path / "recette.toml")
    (tmp_path / "plis.csv").write_text(DECLARATION, encoding="utf-8")
    deadline = (datetime.now(UTC) + LISTENING).isoformat()
    command = [
        sys.executable,
        "-m",
        "harness.cli",
        "plis",
        "attendre",
        "--attendus",
        str(tmp_path / "plis.csv"),
        "--jusqua",
        deadline,
        "--config",
        str(tmp_path / "recette.toml"),
        "--rapport",
        str(tmp_path / "r.json"),
        "--annexe",
        str(tmp_path / "annexe.html"),
    ]
    environ = os.environ | {"RECETTE_CLIENT_SECRET": env.credentials().client_secret}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ) as waiting:
        while not listening(port):
            assert waiting.poll() is None, waiting.communicate()
            time.sleep(0.1)
        with env.asp_client() as client:  # the plis the post office delivered to the platform
            for dossier, data in (("DOS-A", {"montant": "12,00 €"}), ("DOS-B", {})):
                pages = letter_pages("AIDES", dossier, data, 2)
                answer = client.http.post(ROUTE, json=Posting("LYON", "COURRIER", "AIDES", pages).to_json())
                assert answer.status_code == 201, answer.text
                if dossier == "DOS-B":
                    unexpected = answer.json()["idPli"]
        output, errors = waiting.communicate(timeout=60)
    assert waiting.returncode == 1, output + errors
    assert "ENV-2 (dossier DOS-ABSENT) → MANQUANT" in output
    assert f"Plis inattendus : {unexpected}" in output
    found = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert found["manquants"] == ["ENV-2"]
    assert found["inattendus"] == [unexpected]
    assert found["correspondance"][0]["reference"] == "ENV-1"
    assert found["correspondance"][0]["idPli"].startswith("PLI-LYON-")
    assert {c["regle"] for c in found["constats"]} == {paper.RETURNED, paper.UNEXPECTED}
    annex = (tmp_path / "annexe.html").read_text(encoding="utf-8")
    assert "<td>ENV-2</td><td>DOS-ABSENT</td>" in annex
    assert unexpected in annex


def test_a_deadline_is_a_paris_time_and_a_day_alone_its_end() -> None:
    assert deadline_of("2027-01-15") == datetime(2027, 1, 15, 23, tzinfo=UTC)
    assert deadline_of("2027-07-15T18:00") == datetime(2027, 7, 15, 16, tzinfo=UTC)
    assert deadline_of("2027-07-15T18:00+00:00") == datetime(2027, 7, 15, 18, tzinfo=UTC)
