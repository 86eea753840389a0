"""The version policy (semver bumps, the ASP's calendar) and the `recette gate` command."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from harness.cli.gate import gate as gate_command
from harness.foundations.calendar import Calendar, PolicyError, load_calendar, parse_version
from harness.gate.changes import Change, Level
from harness.gate.policy import Policy, check_calendar, check_versions, declared_bump, load_policy, required_bump

ROOT = Path(__file__).parents[1]
CORPUS = Path(__file__).parent / "gate_corpus"
PROJECT_POLICY = ROOT / "contracts" / "version-policy.yaml"
PROJECT_VERSIONS = ROOT / "contracts" / "titulaire" / "versions.yaml"
V1 = {"numero": "1.0.0", "annonceeLe": "2025-09-01", "publieeLe": "2026-01-05", "finDeVieLe": "2027-01-05"}
V2 = {"numero": "2.0.0", "annonceeLe": "2026-03-01", "publieeLe": "2026-07-01", "guideDeMigration": "guide-v2.md"}


def change(level: Level) -> Change:
    return Change("x", level, "ici", "message.")


def rules(violations: list[Any]) -> list[str]:
    return [v.rule for v in violations]


# --- semver -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "bump"),
    [
        ([], "none"),
        ([Level.INFO], "patch"),
        ([Level.INFO, Level.NON_BREAKING], "minor"),
        ([Level.NON_BREAKING, Level.BREAKING, Level.INFO], "major"),
    ],
)
def test_required_bump_is_driven_by_the_worst_change(levels: list[Level], bump: str) -> None:
    assert required_bump([change(level) for level in levels]) == bump


@pytest.mark.parametrize(
    ("base", "revision", "bump"),
    [
        ("1.4.2", "2.0.0", "major"),
        ("1.4.2", "1.5.0", "minor"),
        ("1.4.2", "1.4.3", "patch"),
        ("1.4.2", "1.4.2", "none"),
        ("1.4.2", "1.4.2+build.7", "none"),
        ("1.4.2", "1.4.1", "downgrade"),
        ("2.0.0", "1.9.9", "downgrade"),
        ("2.0.0-rc.1", "2.0.0-rc.2", "prerelease"),
        ("2.0.0-rc.2", "2.0.0", "prerelease"),
        ("2.0.0", "2.0.0-rc.1", "downgrade"),
        ("1.9.0", "1.10.0", "minor"),
    ],
)
def test_declared_bump_follows_semver_precedence(base: str, revision: str, bump: str) -> None:
    old, new = parse_version(base), parse_version(revision)
    assert old is not None
    assert new is not None
    assert declared_bump(old, new) == bump


def test_a_breaking_change_without_a_major_bump_is_a_violation() -> None:
    declared, violations = check_versions("1.2.0", "1.3.0", "major")
    assert declared == "minor"
    assert rules(violations) == ["cassant-sans-version-majeure"]
    assert check_versions("1.2.0", "2.0.0", "major")[1] == []


def test_a_minor_change_needs_at_least_a_minor_bump() -> None:
    assert rules(check_versions("1.2.0", "1.2.1", "minor")[1]) == ["montee-de-version-insuffisante"]
    assert check_versions("1.2.0", "2.0.0", "minor")[1] == []  # bumping more than needed is allowed


def test_a_version_that_goes_backwards_or_stays_equal_with_changes_is_a_violation() -> None:
    assert rules(check_versions("1.2.0", "1.1.0", "none")[1]) == ["version-regressee"]
    assert rules(check_versions("1.2.0", "1.2.0", "patch")[1]) == ["version-inchangee"]
    assert rules(check_versions("1.2.0", "1.2.0", "major")[1]) == ["version-inchangee", "cassant-sans-version-majeure"]
    assert check_versions("1.2.0", "1.2.0", "none")[1] == []


def test_a_version_that_is_not_semver_is_a_violation() -> None:
    declared, violations = check_versions("1.2.0", "v1.3", "minor")
    assert declared is None
    assert rules(violations) == ["version-non-semver"]
    assert "v1.3" in violations[0].message


# --- calendar ---------------------------------------------------------------------------------------


@pytest.fixture
def policy() -> Policy:
    return load_policy(PROJECT_POLICY)


def write_calendar(directory: Path, *entries: dict[str, Any], guide: bool = True) -> Path:
    if guide:
        (directory / "guide-v2.md").write_text("# Migrer de v1 à v2\n", encoding="utf-8")
    path = directory / "versions.yaml"
    path.write_text(yaml.safe_dump({"versions": list(entries)}), encoding="utf-8")
    return path


def calendar(directory: Path, *entries: dict[str, Any], guide: bool = True) -> Calendar:
    return load_calendar(write_calendar(directory, *entries, guide=guide))


def test_the_project_policy_holds_the_asp_rules(policy: Policy) -> None:
    start = date(2026, 1, 31)
    assert start + policy.minor_notice == date(2026, 2, 28)
    assert start + policy.major_notice == date(2026, 4, 30)
    assert start + policy.coexistence == date(2026, 7, 31)
    assert policy.migration_guide_required is True


def test_the_project_calendar_has_v1_and_it_is_compliant(policy: Policy) -> None:
    project = load_calendar(PROJECT_VERSIONS)
    v1 = project.find(parse_version("1.0.0"))  # type: ignore[arg-type]
    assert v1 is not None
    assert (v1.announced, v1.published) == (date(2025, 9, 1), date(2026, 1, 5))
    assert project.resolve(v1.contract or "").is_file()
    assert check_calendar(project, policy, "1.0.0", "major", date(2026, 1, 5)) == []


def test_a_good_major_calendar_passes(tmp_path: Path, policy: Policy) -> None:
    assert check_calendar(calendar(tmp_path, V1, V2), policy, "2.0.0", "major", date(2026, 4, 1)) == []


def test_a_major_announced_less_than_three_months_ahead_is_refused(tmp_path: Path, policy: Policy) -> None:
    late = V2 | {"annonceeLe": "2026-04-02"}
    violations = check_calendar(calendar(tmp_path, V1, late), policy, "2.0.0", "major", date(2026, 4, 2))
    assert rules(violations) == ["preavis-insuffisant"]
    assert "P3M" in violations[0].message
    assert "2026-07-02" in violations[0].message
    just_in_time = V2 | {"annonceeLe": "2026-04-01"}
    assert check_calendar(calendar(tmp_path, V1, just_in_time), policy, "2.0.0", "major", date(2026, 4, 1)) == []


def test_a_minor_needs_one_month_of_notice(tmp_path: Path, policy: Policy) -> None:
    minor = {"numero": "1.1.0", "annonceeLe": "2026-02-01", "publieeLe": "2026-02-28"}
    assert rules(check_calendar(calendar(tmp_path, V1, minor), policy, "1.1.0", "minor", date(2026, 2, 1))) == [
        "preavis-insuffisant"
    ]
    minor["annonceeLe"] = "2026-01-28"
    assert check_calendar(calendar(tmp_path, V1, minor), policy, "1.1.0", "minor", date(2026, 2, 1)) == []


def test_a_version_not_yet_announced_counts_its_notice_from_today(tmp_path: Path, policy: Policy) -> None:
    unannounced = {"numero": "1.1.0", "publieeLe": "2026-03-01"}
    book = calendar(tmp_path, V1, unannounced)
    assert check_calendar(book, policy, "1.1.0", "minor", date(2026, 1, 15)) == []
    violations = check_calendar(book, policy, "1.1.0", "minor", date(2026, 2, 15))
    assert rules(violations) == ["preavis-insuffisant"]
    assert "non encore annoncée" in violations[0].message


def test_the_previous_major_must_live_six_months_after_the_new_one(tmp_path: Path, policy: Policy) -> None:
    short = V1 | {"finDeVieLe": "2026-12-31"}
    violations = check_calendar(calendar(tmp_path, short, V2), policy, "2.0.0", "major", date(2026, 3, 1))
    assert rules(violations) == ["coexistence-insuffisante"]
    assert "2027-01-01" in violations[0].message
    enough = V1 | {"finDeVieLe": "2027-01-01"}
    assert check_calendar(calendar(tmp_path, enough, V2), policy, "2.0.0", "major", date(2026, 3, 1)) == []


def test_the_latest_release_of_the_previous_major_gives_its_end_of_life(tmp_path: Path, policy: Policy) -> None:
    v1_1 = {"numero": "1.1.0", "annonceeLe": "2026-01-01", "publieeLe": "2026-02-15", "finDeVieLe": "2026-09-01"}
    book = calendar(tmp_path, V1, v1_1, V2)
    assert rules(check_calendar(book, policy, "2.0.0", "major", date(2026, 3, 1))) == ["coexistence-insuffisante"]


def test_deprecating_the_previous_major_before_the_new_one_is_out_is_refused(tmp_path: Path, policy: Policy) -> None:
    early = V1 | {"deprecieeLe": "2026-06-01"}
    violations = check_calendar(calendar(tmp_path, early, V2), policy, "2.0.0", "major", date(2026, 3, 1))
    assert rules(violations) == ["depreciation-anticipee"]


def test_a_new_major_needs_its_migration_guide(tmp_path: Path, policy: Policy) -> None:
    no_guide = {k: v for k, v in V2.items() if k != "guideDeMigration"}
    book = calendar(tmp_path, V1, no_guide)
    assert rules(check_calendar(book, policy, "2.0.0", "major", date(2026, 3, 1))) == ["guide-de-migration-manquant"]
    missing_file = calendar(tmp_path, V1, V2, guide=False)
    (tmp_path / "guide-v2.md").unlink()
    violations = check_calendar(missing_file, policy, "2.0.0", "major", date(2026, 3, 1))
    assert rules(violations) == ["guide-de-migration-introuvable"]
    relaxed = Policy(policy.minor_notice, policy.major_notice, policy.coexistence, migration_guide_required=False)
    assert check_calendar(book, relaxed, "2.0.0", "major", date(2026, 3, 1)) == []


def test_the_first_major_needs_no_guide_nor_coexistence(tmp_path: Path, policy: Policy) -> None:
    first = {"numero": "1.0.0", "annonceeLe": "2025-09-01", "publieeLe": "2026-01-05"}
    assert check_calendar(calendar(tmp_path, first, guide=False), policy, "1.0.0", "major", date(2026, 1, 1)) == []


def test_a_published_version_must_be_inscribed_with_its_dates(tmp_path: Path, policy: Policy) -> None:
    book = calendar(tmp_path, V1)
    assert rules(check_calendar(book, policy, "1.0.1", "patch", date(2026, 3, 1))) == ["version-non-inscrite"]
    undated = calendar(tmp_path, V1, {"numero": "1.1.0", "annonceeLe": "2026-02-01"})
    assert rules(check_calendar(undated, policy, "1.1.0", "minor", date(2026, 3, 1))) == ["publication-non-datee"]
    patch = calendar(tmp_path, V1, {"numero": "1.0.1", "publieeLe": "2026-03-02", "contrat": "absent.yaml"})
    assert rules(check_calendar(patch, policy, "1.0.1", "patch", date(2026, 3, 1))) == ["contrat-introuvable"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("versions: [{numero: 1.0, publieeLe: 2026-01-05}]", "semver"),
        ("versions: [{numero: '1.0.0', publieeLe: le 5 janvier}]", "publieeLe"),
        ("versions: {numero: '1.0.0'}", "liste"),
        ("versions: [{numero: '1.0.0'}, {numero: '1.0.0'}]", "deux fois"),
        ("versions: [", "illisible"),
    ],
)
def test_an_unreadable_calendar_is_an_error(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "versions.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PolicyError, match=fragment):
        load_calendar(path)


def test_an_unreadable_policy_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "version-policy.yaml"
    path.write_text("preavisMineure: un mois\npreavisMajeure: P3M\ncoexistenceMajeures: P6M\n", encoding="utf-8")
    with pytest.raises(PolicyError):
        load_policy(path)
    path.write_text("preavisMineure: P1M\npreavisMajeure: P3M\ncoexistenceMajeures: P6M\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="guideDeMigrationObligatoire"):
        load_policy(path)


# --- the command ------------------------------------------------------------------------------------


def gate(*args: str | Path) -> Result:
    return CliRunner().invoke(gate_command, list(map(str, args)))


def pair(name: str) -> tuple[Path, Path]:
    folder = next(CORPUS.glob(f"*-{name}"))
    return folder / "base.yaml", folder / "revision.yaml"


def calendar_args(directory: Path, *entries: dict[str, Any], today: str = "2026-04-01") -> list[str | Path]:
    return ["--versions", write_calendar(directory, *entries), "--policy", PROJECT_POLICY, "--today", today]


def test_gate_is_a_subcommand_of_recette() -> None:
    from harness.cli import main

    assert main.get_command(None, "gate") is gate_command  # type: ignore[arg-type]


def test_an_acceptable_change_exits_0_with_the_json_shape(tmp_path: Path) -> None:
    base, revision = pair("propriete-ajoutee-requete")
    minor = {"numero": "1.1.0", "annonceeLe": "2026-02-01", "publieeLe": "2026-03-02", "contrat": "v1.1.yaml"}
    (tmp_path / "v1.1.yaml").write_text("{}", encoding="utf-8")
    result = gate(base, revision, *calendar_args(tmp_path, V1, minor), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"changes", "requiredBump", "declaredBump", "violations", "verdict"}
    assert report["changes"] == [
        {
            "id": "propriete-ajoutee-requete",
            "level": "non-breaking",
            "location": "POST /v1/depots requestBody application/json #/components/schemas/Depot/properties/canal",
            "message": report["changes"][0]["message"],
        }
    ]
    assert "canal" in report["changes"][0]["message"]
    assert (report["requiredBump"], report["declaredBump"], report["verdict"]) == ("minor", "minor", "pass")
    assert report["violations"] == []


def test_a_breaking_change_without_major_exits_1(tmp_path: Path) -> None:
    base, revision = pair("cassant-sans-version-majeure")
    minor = {"numero": "1.1.0", "annonceeLe": "2026-01-01", "publieeLe": "2026-03-01"}
    result = gate(base, revision, *calendar_args(tmp_path, V1, minor), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["verdict"] == "fail"
    assert report["violations"] == [
        {"rule": "cassant-sans-version-majeure", "message": report["violations"][0]["message"]}
    ]
    assert (report["requiredBump"], report["declaredBump"]) == ("major", "minor")


def test_the_calendar_is_checked_by_the_command(tmp_path: Path) -> None:
    base, revision = pair("valeur-enum-ajoutee-reponse")
    short_sunset = V1 | {"finDeVieLe": "2026-10-01"}
    result = gate(base, revision, *calendar_args(tmp_path, short_sunset, V2), "--format", "json")
    assert result.exit_code == 1
    assert [v["rule"] for v in json.loads(result.stdout)["violations"]] == ["coexistence-insuffisante"]
    result = gate(base, revision, *calendar_args(tmp_path, V1, V2), "--format", "json")
    assert result.exit_code == 0, result.output


def test_text_output_lists_changes_and_verdict(tmp_path: Path) -> None:
    base, revision = pair("cassant-sans-version-majeure")
    result = gate(base, revision, *calendar_args(tmp_path, V1, {"numero": "1.1.0", "publieeLe": "2026-06-01"}))
    assert result.exit_code == 1
    assert "valeur-enum-supprimee-requete" in result.stdout
    assert "cassant-sans-version-majeure" in result.stdout
    assert "REFUSÉ" in result.stdout


def test_junit_has_one_failing_testcase_per_violation(tmp_path: Path) -> None:
    base, revision = pair("cassant-sans-version-majeure")
    late = {"numero": "1.1.0", "annonceeLe": "2026-03-20", "publieeLe": "2026-04-01"}
    result = gate(base, revision, *calendar_args(tmp_path, V1, late), "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["cassant-sans-version-majeure", "preavis-insuffisant"]
    assert all(c.find("failure") is not None for c in cases)
    assert root.find("testsuite").get("failures") == "2"  # type: ignore[union-attr]


def test_junit_has_a_passing_testcase_when_all_is_well(tmp_path: Path) -> None:
    base, revision = pair("aucun-changement")
    result = gate(base, revision, *calendar_args(tmp_path, V1), "--format", "junit")
    assert result.exit_code == 0, result.output
    cases = ET.fromstring(result.stdout).findall(".//testcase")
    assert len(cases) == 1
    assert cases[0].find("failure") is None


def test_the_project_files_are_the_defaults() -> None:
    contract = ROOT / "contracts" / "titulaire" / "v1" / "openapi.yaml"
    result = gate(contract, contract, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["requiredBump"] == "none"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "illisible"),
        ("openapi: 3.0.3\npaths: [", "YAML"),
        ("openapi: 3.1.0\ninfo: {title: t, version: 1.0.0}\npaths: {}\n", "3.1.0"),
        ("- une liste\n", "objet"),
        ("openapi: 3.0.3\ninfo: {title: t, version: 1.0.0}\nsecurity: oauth2\npaths:\n  /a: {get: {}}\n", "structure"),
        (
            "openapi: 3.0.3\ninfo: {title: t, version: 1.0.0}\npaths:\n  /a:\n    get:\n      responses:\n"
            "        '200': {$ref: 'ailleurs.yaml#/r'}\n",
            "ailleurs.yaml",
        ),
    ],
)
def test_an_unreadable_contract_exits_2_with_one_line(tmp_path: Path, content: str | None, fragment: str) -> None:
    revision = tmp_path / "revision.yaml"
    if content is not None:
        revision.write_text(content, encoding="utf-8")
    result = gate(pair("aucun-changement")[0], revision, *calendar_args(tmp_path, V1))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert fragment in result.stderr


def test_a_broken_reference_names_the_file_that_holds_it(tmp_path: Path) -> None:
    revision = tmp_path / "revision.yaml"
    revision.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: 1.0.0}\npaths:\n  /a:\n    get:\n      responses:\n"
        "        '200': {$ref: '#/nulle/part'}\n",
        encoding="utf-8",
    )
    result = gate(pair("aucun-changement")[0], revision, *calendar_args(tmp_path, V1))
    assert result.exit_code == 2
    assert f"{revision} : référence introuvable : #/nulle/part" in result.stderr


def test_an_unreadable_versions_file_exits_2(tmp_path: Path) -> None:
    base, revision = pair("aucun-changement")
    bad = tmp_path / "versions.yaml"
    bad.write_text("versions: [{numero: 1.0}]", encoding="utf-8")
    result = gate(base, revision, "--versions", bad, "--policy", PROJECT_POLICY)
    assert result.exit_code == 2
    assert "semver" in result.stderr
