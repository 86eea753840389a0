"""The harness as a user installs it: a wheel in a fresh venv runs a campaign with no checkout around."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
"""Where the installed harness runs: nothing but the venv decides what it imports."""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the project's wheel; its `recette` command."""
    base = tmp_path_factory.mktemp("roue")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", base / "dist", ROOT], check=True)
    (wheel,) = (base / "dist").glob("recette_asp-*.whl")
    venv.create(base / "venv", with_pip=False)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(base / "venv")}))
    # The dependencies come from this environment, listed as a plain path and not as a site folder, so that
    # its editable install of the checkout is not seen: `harness` can only come from the wheel.
    (site / "dependances.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    subprocess.run([*pip, "--python", base / "venv/bin/python", "install", "--no-deps", wheel], check=True)
    return base / "venv/bin/recette"


def test_the_wheel_holds_the_suites_features_and_contracts(installed: Path) -> None:
    python = installed.with_name("python")
    code = "import harness; from harness.foundations.resources import project_folder as f; print(harness.__file__)"
    code += "; print(f('features')); print(f('contracts')); import harness.campaign.suites.bdd.steps.depots"
    printed = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd="/", env=ENV, check=True).stdout
    package, features, contracts = printed.split()
    venv_dir = str(installed.parents[1])
    assert package.startswith(venv_dir)
    assert features.startswith(venv_dir)
    assert contracts.startswith(venv_dir)
    assert not package.startswith(str(ROOT))


@pytest.mark.slow
def test_an_evolution_run_from_the_wheel_is_not_billable_and_the_ledger_sums_it(
    installed: Path, tmp_path: Path
) -> None:
    run = [installed, "run", "--motif", "evolution:EVO-1", "--suites", "bdd", "--report-dir", tmp_path / "r"]
    result = subprocess.run(run, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    (run_dir,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]
    assert json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["qualifie"] is True
    (ledger_line,) = csv.DictReader((tmp_path / "r/billing-ledger.csv").open(encoding="utf-8"))
    assert ledger_line["motif"] == "evolution:EVO-1"
    assert ledger_line["facturable"] == "non"
    billing = subprocess.run(
        [installed, "billing", "--format", "json", "--report-dir", tmp_path / "r"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    summary = json.loads(billing.stdout)
    assert summary[0]["motif"] == "evolution:EVO-1"
    assert summary[0]["depots"] == int(ledger_line["depotsEnvoyes"]) >= 1
