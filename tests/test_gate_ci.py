"""`recette gate` in CI: contracts read in a git revision, the README's recipes run as written, the calendar's scope."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from harness.cli.gate import evaluate
from harness.cli.gate import gate as gate_command
from harness.foundations.document import GitRevision, LoadError, WorkingTree, contract_input

ROOT = Path(__file__).parents[1]
CONTRACT = "contracts/titulaire/v1/openapi.yaml"
CALLBACK = "contracts/asp-callback/v1/openapi.yaml"
CORPUS = Path(__file__).parent / "gate_corpus"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "recette",
    "GIT_AUTHOR_EMAIL": "recette@example.org",
    "GIT_COMMITTER_NAME": "recette",
    "GIT_COMMITTER_EMAIL": "recette@example.org",
}
BREAKING_EDIT = ("enum: [API, DOSSIER, PAPIER]", "enum: [API, DOSSIER, PAPIER, MIXTE]")
"""A value added to the callback's request, written by the titulaire: breaking, in the `$ref`'d ASP file."""

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git n'est pas installé")


def git(folder: Path, *arguments: str) -> str:
    environment = os.environ | GIT_IDENTITY
    done = subprocess.run(["git", "-C", str(folder), *arguments], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of an `origin` whose `main` holds the project's contracts, with the project's `.venv` linked in."""
    origin = tmp_path / "origin"
    shutil.copytree(ROOT / "contracts", origin / "contracts")
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "contracts")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(origin), str(work))
    (work / ".venv").symlink_to(Path(sys.executable).parents[1])
    return work


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def gate(*args: str | Path) -> Result:
    return CliRunner().invoke(gate_command, list(map(str, args)))


# --- the README's recipes, as written -------------------------------------------------------------------


def readme_recipes() -> dict[str, list[str]]:
    """The commands of the README's GitHub Actions and GitLab CI recipes."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("A merge request gate, for GitHub Actions")[1]
    github, gitlab = (yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)[:2])
    return {
        "github": [step["run"] for step in github if "run" in step],
        "gitlab": list(gitlab["contrat"]["script"]),
    }


def run_recipe(commands: list[str], folder: Path) -> list[tuple[int, str]]:
    """Run the recipe's commands in `folder` (the venv is already there: `make .venv/.installed` is skipped);
    the exit code and output of each."""
    assert commands[0] == "make .venv/.installed"
    runs = []
    for command in commands[1:]:
        done = subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True)
        assert "Traceback" not in done.stderr, done.stderr
        runs.append((done.returncode, done.stdout))
    return runs


def test_the_github_recipe_passes_on_the_unchanged_contract(clone: Path) -> None:
    runs = run_recipe(readme_recipes()["github"], clone)
    assert [code for code, _ in runs] == [0, 0]
    assert runs[0][1] == "\n"  # a clean lint has no annotation
    assert runs[1][1].startswith("::notice title=recette gate::ACCEPTÉ")


def test_the_github_recipe_fails_on_a_breaking_change_without_a_major(clone: Path) -> None:
    edit(clone / CALLBACK, *BREAKING_EDIT)
    runs = run_recipe(readme_recipes()["github"], clone)
    assert [code for code, _ in runs] == [0, 1]
    annotations = runs[1][1].splitlines()
    version_line = next(
        i for i, line in enumerate((clone / CONTRACT).read_text().splitlines(), 1) if "version:" in line
    )
    errors = [a for a in annotations if a.startswith(f"::error file={CONTRACT},line={version_line},")]
    assert [e.split("title=")[1].split("::")[0] for e in errors] == [
        "version-inchangee",
        "cassant-sans-version-majeure",
    ]
    assert any(a.startswith(f"::warning file={CALLBACK},line=") for a in annotations)


def test_the_gitlab_recipe_passes_on_the_unchanged_contract(clone: Path) -> None:
    runs = run_recipe(readme_recipes()["gitlab"], clone)
    assert {code for code, _ in runs} == {0}
    assert json.loads((clone / "lint.json").read_text(encoding="utf-8")) == []
    assert ET.parse(clone / "gate.xml").getroot().get("failures") == "0"


def test_the_gitlab_recipe_fails_on_a_breaking_change_without_a_major(clone: Path) -> None:
    edit(clone / CALLBACK, *BREAKING_EDIT)
    runs = run_recipe(readme_recipes()["gitlab"], clone)
    assert runs[-1][0] == 1
    failures = ET.parse(clone / "gate.xml").getroot().findall(".//failure")
    assert "cassant-sans-version-majeure" in [failure.get("type") for failure in failures]


# --- git revisions ----------------------------------------------------------------------------------------


def test_a_revision_reads_its_references_in_the_same_revision(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The base's `$ref` to the ASP's file reads that file as committed, not as it is in the working tree."""
    monkeypatch.chdir(clone)
    edit(clone / CALLBACK, *BREAKING_EDIT)
    result = evaluate(contract_input(f"origin/main:{CONTRACT}"), Path(CONTRACT))
    assert [(c.id, c.level.value) for c in result.changes] == [("valeur-enum-ajoutee-requete", "breaking")]
    assert [v.rule for v in result.violations] == ["version-inchangee", "cassant-sans-version-majeure"]


def test_base_ref_compares_a_file_with_itself_in_another_revision(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(clone / "contracts")
    edit(clone / CALLBACK, *BREAKING_EDIT)
    result = gate("--base-ref", "origin/main", "titulaire/v1/openapi.yaml", "--format", "json")
    assert result.exit_code == 1, result.output
    assert "valeur-enum-ajoutee-requete" in result.stdout
    assert gate("--base-ref", "HEAD", "titulaire/v1/openapi.yaml").exit_code == 1


def test_git_paths_are_from_the_top_unless_they_start_with_dot(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(clone / "contracts")
    from_top = contract_input(f"HEAD:{CONTRACT}")
    from_here = contract_input("HEAD:./titulaire/v1/openapi.yaml")
    assert from_top.path == from_here.path == Path(os.path.realpath(clone / CONTRACT))
    assert isinstance(from_top.source, GitRevision)
    assert from_top.name == f"HEAD:{CONTRACT}"
    assert isinstance(contract_input("titulaire/v1/openapi.yaml").source, WorkingTree)


def test_an_existing_file_is_a_path_even_with_a_colon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(CORPUS / "04-aucun-changement" / "base.yaml", tmp_path / "a:b.yaml")
    assert not isinstance(contract_input("a:b.yaml").source, GitRevision)
    assert evaluate(Path("a:b.yaml"), Path("a:b.yaml")).changes == []


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["inconnue:" + CONTRACT, CONTRACT], "révision git inconnue « inconnue »"),
        (["HEAD:contracts/absent.yaml", CONTRACT], "HEAD:contracts/absent.yaml : fichier introuvable"),
        (["--base-ref", "inconnue", CONTRACT], "révision git inconnue"),
    ],
)
def test_an_unknown_revision_or_file_exits_2_with_one_line(
    clone: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], fragment: str
) -> None:
    monkeypatch.chdir(clone)
    result = gate(*arguments)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert fragment in line


def test_outside_a_repository_a_revision_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LoadError, match="n'est pas dans un dépôt git"):
        contract_input("HEAD:openapi.yaml", tmp_path)


@pytest.mark.parametrize("arguments", [["--base-ref", "HEAD", CONTRACT, CONTRACT], [CONTRACT]])
def test_the_number_of_contracts_follows_base_ref(arguments: list[str]) -> None:
    assert gate(*arguments).exit_code == 2


# --- which calendar applies ---------------------------------------------------------------------------------


def other_api(tmp_path: Path, calendar: str | None) -> tuple[Path, Path]:
    """Another API's compatible minor change (1.0.0 → 1.1.0), with `calendar` as its parent's versions.yaml."""
    pair = CORPUS / "19-propriete-ajoutee-requete"
    folder = tmp_path / "autre-api" / "v1"
    folder.mkdir(parents=True)
    shutil.copy(pair / "base.yaml", folder / "base.yaml")
    shutil.copy(pair / "revision.yaml", folder / "openapi.yaml")
    if calendar is not None:
        (tmp_path / "autre-api" / "versions.yaml").write_text(calendar, encoding="utf-8")
    return folder / "base.yaml", folder / "openapi.yaml"


def test_another_apis_contract_gets_no_calendar(tmp_path: Path) -> None:
    base, revision = other_api(tmp_path, None)
    result = gate(base, revision)
    assert result.exit_code == 0, result.output
    assert "Calendrier non appliqué : aucun versions.yaml" in result.stdout


def test_a_calendar_that_does_not_inscribe_the_contract_is_not_applied(tmp_path: Path) -> None:
    base, revision = other_api(tmp_path, 'versions:\n  - {numero: "1.0.0", contrat: v9/openapi.yaml}\n')
    result = gate(base, revision)
    assert result.exit_code == 0, result.output
    assert "n'inscrit pas openapi.yaml" in result.stdout


def test_the_calendar_beside_the_contract_applies_when_it_inscribes_it(tmp_path: Path) -> None:
    base, revision = other_api(tmp_path, 'versions:\n  - {numero: "1.0.0", contrat: v1/openapi.yaml}\n')
    result = gate(base, revision)
    assert result.exit_code == 1
    assert "version-non-inscrite" in result.stdout
    assert gate(base, revision, "--no-calendar").exit_code == 0


def test_versions_and_no_calendar_exclude_each_other(tmp_path: Path) -> None:
    base, revision = other_api(tmp_path, None)
    assert gate(base, revision, "--no-calendar", "--versions", tmp_path / "versions.yaml").exit_code == 2


def test_the_project_contract_finds_the_project_calendar() -> None:
    result = gate(ROOT / CONTRACT, ROOT / "contracts/titulaire/v2/openapi.yaml")
    assert result.exit_code == 0, result.output
    assert "contracts/titulaire/versions.yaml (trouvé près du contrat)" in result.stdout
