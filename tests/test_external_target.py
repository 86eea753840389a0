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

import pytest

from harness.environment import Environment
from harness.servers import free_socket
from tests.conftest import StartEnvironment


def receiver_port() -> int:
    with free_socket() as sock:
        return sock.getsockname()[1]


def write_config(env: Environment, port: int, path: Path) -> None:
    certs = env.certs
    path.write_text(
        f"""
[target]
url = "{env.titulaire_url}"
ca = "{certs.ca}"
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


@pytest.mark.slow
def test_a_platform_described_by_its_configuration_is_qualified(
    new_environment: StartEnvironment, tmp_path: Path
) -> None:
    port = receiver_port()
    env = new_environment(callback_url=f"https://127.0.0.1:{port}/v1/retours")
    config = tmp_path / "recette.toml"
    write_config(env, port, config)
    secret = env.credentials().client_secret
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--config", str(config), "--report-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | {"RECETTE_CLIENT_SECRET": secret},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (run_dir,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["cible"] == env.titulaire_url
    assert summary["totaux"]["reussi"] >= 1
    skipped = [s for s in summary["scenarios"] if s["outcome"] == "ignore"]
    reasons = [s["skip_reason"] or "" for s in skipped]
    assert reasons and all("référence" in r or r.startswith("non applicable") for r in reasons), reasons
    assert (run_dir / "ac-recepteur.pem").exists()
    assert secret not in (run_dir / "summary.json").read_text(encoding="utf-8")
    assert secret not in result.stdout + result.stderr


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
    assert "réglage manquant" in result.stderr and "RECETTE_CA" in result.stderr
    assert not (tmp_path / "r").exists()
