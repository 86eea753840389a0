"""The `recette` command as a user runs it: `serve` with its printed curl, and `run`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main


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
        assert calls and calls[0]["valide"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_run_qualifies_the_reference_and_writes_its_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (run_dir,) = tmp_path.iterdir()
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["qualifie"] is True
    assert summary["ecartsAuContrat"] == []
    assert len(summary["controles"]) >= 10
    assert all(c["reussi"] for c in summary["controles"])
    assert "QUALIFIÉ" in result.output
