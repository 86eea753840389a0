"""What a team controls of `recette lint`: rules on and off, severities, ignores with a reason, `--rules`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli.lint import lint as lint_command
from harness.lint import ALL_RULES, LintConfig, lint_file, read_config
from harness.lint.config import ConfigError

CORPUS = Path(__file__).parent / "lint_corpus"
KNOWN = {rule.id for rule in ALL_RULES}
HYGIENE = {
    "info-licence": "/info",
    "info-contact": "/info",
    "operation-description": "/paths/~1v1~1depots~1{idDepot}/get",
    "operation-tags": "/paths/~1v1~1depots~1{idDepot}/get",
}


def lint(*args: str | Path) -> Result:
    return CliRunner().invoke(lint_command, list(map(str, args)))


def config(tmp_path: Path, text: str, name: str = ".recette-lint.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def found(path: Path, settings: LintConfig) -> set[tuple[str, str, str]]:
    return {(f.rule, f.severity, f.path) for f in lint_file(path, settings).findings}


def test_the_default_configuration_changes_nothing() -> None:
    assert found(CORPUS / "security-vide.yaml", LintConfig()) == {
        ("securite-operations", "error", "/paths/~1v1~1depots~1{idDepot}/get/security"),
        ("securite-operations", "error", "/paths/~1v1~1depots/get/security/0"),
    }


def test_a_rule_turned_off_a_severity_changed(tmp_path: Path) -> None:
    path = config(tmp_path, "rules:\n  securite-operations: warning\n  erreurs-problem-json: off\n")
    settings = read_config(path, KNOWN)
    assert {s for _, s, _ in found(CORPUS / "security-vide.yaml", settings)} == {"warning"}
    assert found(CORPUS / "erreurs-sans-problem.yaml", settings) == set()
    assert lint(CORPUS / "security-vide.yaml", "--config", path).exit_code == 0


def test_the_optional_hygiene_rules_run_only_when_turned_on(tmp_path: Path) -> None:
    assert not {rule for rule, _, _ in found(CORPUS / "conforme.yaml", LintConfig())} & set(HYGIENE)
    path = config(tmp_path, "rules:\n" + "".join(f"  {rule}: on\n" for rule in HYGIENE))
    assert found(CORPUS / "conforme.yaml", read_config(path, KNOWN)) == {
        (rule, "warning", where) for rule, where in HYGIENE.items()
    }


def test_unused_components_and_callbacks_without_4xx(tmp_path: Path) -> None:
    contract = tmp_path / "contrat.yaml"
    text = (CORPUS / "conforme.yaml").read_text(encoding="utf-8")
    contract.write_text(
        text.replace("components:\n", "components:\n  headers:\n    Inutile: {schema: {type: string}}\n", 1)
    )
    settings = LintConfig({"composants-inutilises": "on", "rappels-erreurs-4xx": "on"})
    assert found(contract, settings) == {("composants-inutilises", "warning", "/components/headers/Inutile")}
    assert lint_file(Path(__file__).parents[1] / "contracts/titulaire/v1/openapi.yaml", settings).findings[0].rule == (
        "rappels-erreurs-4xx"
    )


def test_an_ignore_needs_a_reason_and_drops_the_finding_from_the_verdict(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        "ignore:\n  - rule: securite-operations\n    path: /paths/*/get/security*\n    reason: migration en cours\n",
    )
    report = lint_file(CORPUS / "security-vide.yaml", read_config(path, KNOWN))
    assert report.findings == []
    assert not report.has_errors
    assert [(f.rule, i.reason) for f, i in report.ignored] == [("securite-operations", "migration en cours")] * 2
    result = lint(CORPUS / "security-vide.yaml", "--config", path)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].endswith("0 information, 2 constats ignorés")


def test_a_toml_section_is_read(tmp_path: Path) -> None:
    path = config(tmp_path, '[lint]\nrules = { "securite-operations" = "off" }\n', "recette.toml")
    assert found(CORPUS / "security-vide.yaml", read_config(path, KNOWN)) == set()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("rules:\n  inconnue: off\n", "règle inconnue « inconnue »"),
        ("rules:\n  chemins-pluriel: fatal\n", "n'est pas on, off"),
        ("ignore:\n  - {rule: chemins-pluriel, path: /paths}\n", "demande une raison"),
        ("ignore:\n  - {rule: inconnue, path: /, reason: x}\n", "règle inconnue"),
        ("rules: [\n", "illisible"),
    ],
)
def test_a_bad_configuration_exits_2_with_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    path = config(tmp_path, text)
    with pytest.raises(ConfigError, match=fragment):
        read_config(path, KNOWN)
    result = lint(CORPUS / "conforme.yaml", "--config", path)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert fragment in result.stderr


def test_a_blocking_rule_still_blocks_whatever_its_severity(tmp_path: Path) -> None:
    settings = LintConfig({"references-resolues": "warning"})
    rules = {(rule, severity) for rule, severity, _ in found(CORPUS / "ref-introuvable.yaml", settings)}
    assert ("references-resolues", "warning") in rules
    assert ("regles-non-appliquees", "info") in rules


def test_rules_lists_every_rule_with_its_source_level_and_state(tmp_path: Path) -> None:
    result = lint("--rules")
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(lines) == KNOWN
    assert "doit" in lines["erreurs-problem-json"]
    assert "RFC 9457" in lines["erreurs-problem-json"]
    assert "devrait" in lines["info-licence"]
    assert "inactive" in lines["info-licence"]
    assert "DINUM" in lines["chemins-verbes"]
    turned = lint("--rules", "--config", config(tmp_path, "rules:\n  info-licence: error\n  chemins-verbes: off\n"))
    lines = {line.split()[0]: line for line in turned.stdout.splitlines()}
    assert " error " in lines["info-licence"]
    assert "active" in lines["info-licence"]
    assert "désactivée" in lines["chemins-verbes"]


def test_every_rule_cites_a_source_and_a_french_summary() -> None:
    assert all(rule.source and rule.summary and rule.level in ("doit", "devrait", "information") for rule in ALL_RULES)
    assert {rule.id for rule in ALL_RULES if rule.optional} == {
        *HYGIENE,
        "composants-inutilises",
        "rappels-erreurs-4xx",
    }


def test_contracts_are_required_without_rules() -> None:
    assert lint().exit_code == 2
