"""`recette lint`: the project's contracts pass, every broken contract of the corpus is caught where it breaks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from harness.cli.lint import lint
from harness.foundations.contracts import ASP_CALLBACK_V1, SERVICE_CONTRACT, TITULAIRE_V1, contract_path
from harness.lint import LoadError, lint_file
from harness.lint.rules import DESIGN, PRELIMINARY, SERVICE, STRUCTURE

CORPUS = Path(__file__).parent / "lint_corpus"
DEPOT = "/paths/~1v1~1depots~1{idDepot}"
GET = f"{DEPOT}/get"

# Corpus file → every finding expected, exactly: (rule, severity, JSON pointer).
EXPECTED: dict[str, set[tuple[str, str, str]]] = {
    "conforme.yaml": set(),
    "openapi-31.yaml": {("version-openapi", "error", "/openapi")},
    "serveur-http.yaml": {("serveurs-https", "error", "/servers/0/url")},
    "sans-securite.yaml": {
        ("securite-schemas", "error", "/components/securitySchemes"),
        ("securite-operations", "error", GET),
    },
    "security-vide.yaml": {
        ("securite-operations", "error", f"{GET}/security"),
        ("securite-operations", "error", "/paths/~1v1~1depots/get/security/0"),
    },
    "securite-apikey.yaml": {
        ("securite-schemas", "error", "/components/securitySchemes"),
        ("securite-operations", "error", "/security/0"),
    },
    "erreurs-non-documentees.yaml": {("erreurs-documentees", "error", f"{GET}/responses")},
    "erreurs-sans-problem.yaml": {
        ("erreurs-problem-json", "error", f"{GET}/responses/404"),
        ("erreurs-problem-json", "error", f"{GET}/responses/500"),
    },
    "verbes-chemins.yaml": {
        ("chemins-kebab-case", "error", "/paths/~1v1~1getDepot"),
        ("chemins-kebab-case", "error", "/paths/~1v1~1createDeposit"),
        ("chemins-verbes", "error", "/paths/~1v1~1getDepot"),
        ("chemins-verbes", "error", "/paths/~1v1~1createDeposit"),
        ("chemins-verbes", "error", "/paths/~1v1~1creer-depot"),
        ("chemins-verbes", "error", f"{DEPOT}~1envoyer"),
    },
    "nommage.yaml": {
        ("chemins-kebab-case", "error", "/paths/~1v1~1Depots_Complementaires"),
        ("chemins-pluriel", "warning", "/paths/~1v1~1depot~1{idDepot}"),
        ("parametres-identifiants", "error", "/paths/~1v1~1dossiers~1{dossierId}"),
        ("parametres-identifiants", "error", "/paths/~1v1~1dossiers~1{idDossier}~1pieces"),
        ("proprietes-camel-case", "error", "/components/schemas/Depot/properties/identifiant_dossier"),
        ("proprietes-camel-case", "error", "/components/schemas/Depot/properties/DateDepot"),
    },
    "descriptions-manquantes.yaml": {
        ("modeles-descriptions", "warning", "/components/schemas/Depot"),
        ("modeles-descriptions", "warning", "/components/schemas/Depot/properties/idDepot"),
    },
    "asynchrone-sans-location.yaml": {("asynchrone-location", "warning", "/paths/~1v1~1depots/post/responses/202")},
    "operation-incomplete.yaml": {
        ("operation-identifiant", "error", GET),
        ("operation-resume", "warning", GET),
    },
    "sans-tls-ni-limite.yaml": {
        ("securite-tls-mutuel", "warning", "/info"),
        ("limite-transaction", "warning", "/info"),
    },
    "limite-trop-haute.yaml": {("limite-transaction-valeur", "error", "/info/x-limite-transaction-octets")},
    "cycle.yaml": {("proprietes-camel-case", "error", "/components/schemas/Noeud/properties/nom_noeud")},
    "cycle-references.yaml": {
        ("references-resolues", "error", f"{GET}/responses/200/content/application~1json/schema/$ref"),
        ("references-resolues", "error", "/components/schemas/Depot/$ref"),
        ("references-resolues", "error", "/components/schemas/Boucle/$ref"),
        ("regles-non-appliquees", "info", "/openapi"),
    },
    "ref-introuvable.yaml": {
        ("references-resolues", "error", f"{GET}/responses/200/content/application~1json/schema/$ref"),
        ("regles-non-appliquees", "info", "/openapi"),
    },
    "ref-externe.yaml": {
        ("proprietes-camel-case", "error", "modeles-externes.yaml#/components/schemas/Depot/properties/date_depot"),
        ("modeles-descriptions", "warning", "modeles-externes.yaml#/components/schemas/Depot/properties/date_depot"),
    },
    "structure-invalide.yaml": {
        ("structure-valide", "error", f"{GET}/responses/200"),
        ("regles-non-appliquees", "info", "/openapi"),
    },
    "cle-sans-guillemets.yaml": {
        ("structure-valide", "error", f"{GET}/responses/200"),
        ("structure-valide", "error", f"{GET}/responses/404"),
        ("regles-non-appliquees", "info", "/openapi"),
    },
    "swagger2.yaml": {
        ("swagger2-perimetre", "info", "/swagger"),
        ("serveurs-https", "error", "/schemes/0"),
    },
    "contrat-de-service-incomplet.yaml": {
        ("contrat-de-service", "error", "/conservation"),
        ("contrat-de-service", "error", "/qualiteDeService/disponibilitePourcent"),
        ("contrat-de-service-references", "warning", "/contratDeService/api/rappel"),
    },
}
UNREADABLE = ["illisible.yaml", "pas-openapi.yaml", "modeles-externes.yaml"]
FINDING_LINE = re.compile(r"(ERROR|WARNING|INFO) [a-z0-9-]+ \S+: .+")


def run_lint(*args: str | Path) -> Result:
    return CliRunner().invoke(lint, [str(a) for a in args])


def found(path: Path) -> set[tuple[str, str, str]]:
    return {(f.rule, f.severity, f.path) for f in lint_file(path).findings}


def variant(tmp_path: Path, source: Path, change: Any, name: str = "variante.yaml") -> Path:
    """A copy of a corpus contract, changed by `change(document)`, written in `tmp_path`."""
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(document)
    target = tmp_path / name
    target.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


# --- The project's own contracts --------------------------------------------------------------------


@pytest.mark.parametrize("name", [TITULAIRE_V1, ASP_CALLBACK_V1, SERVICE_CONTRACT])
def test_project_contracts_have_no_error(name: str) -> None:
    result = run_lint(contract_path(name))
    assert result.exit_code == 0, result.output
    assert not [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    assert " : CONFORME — 0 erreur," in result.stdout.splitlines()[-1]


def test_titulaire_contract_is_clean_across_its_cross_file_callback_refs() -> None:
    report = lint_file(contract_path(TITULAIRE_V1))
    assert report.findings == []
    assert report.openapi == "3.0.3"


# --- The corpus ---------------------------------------------------------------------------------------


def test_every_corpus_file_has_expectations() -> None:
    assert {p.name for p in CORPUS.glob("*.yaml")} == set(EXPECTED) | set(UNREADABLE)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_contract_is_caught_by_the_expected_rule_at_the_expected_place(name: str) -> None:
    assert found(CORPUS / name) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exit_code_follows_error_findings(name: str) -> None:
    has_error = any(severity == "error" for _, severity, _ in EXPECTED[name])
    assert run_lint(CORPUS / name).exit_code == (1 if has_error else 0)


def test_openapi_31_says_why_it_is_refused() -> None:
    [finding] = lint_file(CORPUS / "openapi-31.yaml").findings
    assert "l'ASP ne prend pas en charge OpenAPI 3.1" in finding.message
    assert "3.0.3" in finding.message


def test_version_written_as_a_number_is_refused_and_stops_the_rules(tmp_path: Path) -> None:
    path = tmp_path / "nombre.yaml"
    path.write_text((CORPUS / "conforme.yaml").read_text(encoding="utf-8").replace("openapi: 3.0.3", "openapi: 3.0"))
    assert found(path) == {("version-openapi", "error", "/openapi"), ("regles-non-appliquees", "info", "/openapi")}


def test_structure_error_carries_the_validator_message() -> None:
    finding = next(f for f in lint_file(CORPUS / "structure-invalide.yaml").findings if f.rule == "structure-valide")
    assert "'description' is a required property" in finding.message


def test_a_malformed_contract_gets_findings_not_a_crash(tmp_path: Path) -> None:
    path = variant(tmp_path, CORPUS / "conforme.yaml", lambda d: d.update(paths=["/v1/depots"]))
    assert ("structure-valide", "error", "/paths") in found(path)
    result = run_lint(path)
    assert result.exit_code == 1
    assert "INFO regles-non-appliquees /openapi: règles non appliquées (conception)" in result.stdout


def test_cyclic_schema_is_walked_once() -> None:
    rules = [f.rule for f in lint_file(CORPUS / "cycle.yaml").findings]
    assert rules == ["proprietes-camel-case"]


def test_server_variables_are_expanded(tmp_path: Path) -> None:
    def templated(document: dict[str, Any]) -> None:
        scheme = {"default": "https", "enum": ["https", "http"], "description": "Schéma."}
        document["servers"] = [{"url": "{scheme}://titulaire.example", "variables": {"scheme": scheme}}]

    path = variant(tmp_path, CORPUS / "conforme.yaml", templated)
    assert found(path) == {("serveurs-https", "error", "/servers/0/url")}


def test_callback_operations_need_an_operation_id(tmp_path: Path) -> None:
    def with_callback(document: dict[str, Any]) -> None:
        callback = {"post": {"summary": "Retour", "responses": {"202": {"description": "Acquitté."}}}}
        document["paths"]["/v1/depots/{idDepot}"]["get"]["callbacks"] = {
            "retour": {"https://asp.example/v1/retours": callback}
        }

    path = variant(tmp_path, CORPUS / "conforme.yaml", with_callback)
    where = f"{GET}/callbacks/retour/https:~1~1asp.example~1v1~1retours/post"
    assert found(path) == {("operation-identifiant", "error", where)}


def test_a_json_contract_is_read_like_yaml(tmp_path: Path) -> None:
    path = tmp_path / "conforme.json"
    path.write_text(json.dumps(yaml.safe_load((CORPUS / "conforme.yaml").read_text(encoding="utf-8"))))
    assert found(path) == set()
    assert run_lint(path).exit_code == 0


# --- Swagger 2.0 ----------------------------------------------------------------------------------------


def test_clean_swagger2_passes_with_a_plain_statement_of_what_is_not_checked(tmp_path: Path) -> None:
    path = variant(tmp_path, CORPUS / "swagger2.yaml", lambda d: d.update(schemes=["https"]))
    [finding] = lint_file(path).findings
    assert (finding.rule, finding.severity) == ("swagger2-perimetre", "info")
    assert "Non vérifié" in finding.message
    assert "openapi-core" in finding.message
    assert run_lint(path).exit_code == 0


def test_swagger2_errors_need_problem_json_in_produces(tmp_path: Path) -> None:
    path = variant(
        tmp_path, CORPUS / "swagger2.yaml", lambda d: d.update(schemes=["https"], produces=["application/json"])
    )
    errors = {(f.rule, f.path) for f in lint_file(path).findings if f.severity == "error"}
    assert errors == {
        ("erreurs-problem-json", f"{GET}/responses/404"),
        ("erreurs-problem-json", f"{GET}/responses/500"),
    }


def test_swagger2_security_definitions_are_read(tmp_path: Path) -> None:
    def without_security(document: dict[str, Any]) -> None:
        document["schemes"] = ["https"]
        del document["securityDefinitions"], document["security"]

    path = variant(tmp_path, CORPUS / "swagger2.yaml", without_security)
    errors = {(f.rule, f.path) for f in lint_file(path).findings if f.severity == "error"}
    assert errors == {("securite-schemas", "/securityDefinitions"), ("securite-operations", GET)}


# --- Service contract ---------------------------------------------------------------------------------


@pytest.mark.parametrize("section", ["objet", "conservation", "qualiteDeService", "securite", "politiqueDeVersion"])
def test_service_contract_missing_a_section_is_an_error(tmp_path: Path, section: str) -> None:
    path = variant(tmp_path, contract_path(SERVICE_CONTRACT), lambda d: d.pop(section))
    assert ("contrat-de-service", "error", f"/{section}") in found(path)
    result = run_lint(path)
    assert result.exit_code == 1
    assert f"ERROR contrat-de-service /{section}: section ou champ obligatoire absent : {section}" in result.stdout


def test_service_contract_report_has_no_openapi_version() -> None:
    assert lint_file(contract_path(SERVICE_CONTRACT)).openapi is None


# --- Unreadable input and exit codes --------------------------------------------------------------------


@pytest.mark.parametrize("name", [*UNREADABLE, "absent.yaml"])
def test_unreadable_input_exits_2_with_one_line_on_stderr(name: str) -> None:
    result = run_lint(CORPUS / name)
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("erreur : ")
    assert name in line
    with pytest.raises(LoadError):
        lint_file(CORPUS / name)


def test_unreadable_among_several_exits_2_but_reports_the_others() -> None:
    result = run_lint(CORPUS / "conforme.yaml", CORPUS / "absent.yaml")
    assert result.exit_code == 2
    assert "conforme.yaml : CONFORME" in result.stdout
    assert "absent.yaml : fichier introuvable" in result.stderr


def test_one_broken_contract_among_several_exits_1() -> None:
    assert run_lint(CORPUS / "conforme.yaml", CORPUS / "openapi-31.yaml").exit_code == 1


# --- Output formats -------------------------------------------------------------------------------------


def test_text_output_is_one_line_per_finding_then_a_verdict() -> None:
    lines = run_lint(CORPUS / "security-vide.yaml").stdout.splitlines()
    assert len(lines) == 3
    assert all(FINDING_LINE.fullmatch(line) for line in lines[:-1])
    assert lines[0].startswith(f"ERROR securite-operations {GET}/security: ")
    assert lines[-1] == f"{CORPUS / 'security-vide.yaml'} : NON CONFORME — 2 erreurs, 0 avertissement, 0 information"


def test_json_output_for_one_contract_is_an_object() -> None:
    result = CliRunner().invoke(lint, [str(CORPUS / "serveur-http.yaml"), "--format", "json"])
    payload = json.loads(result.stdout)
    assert set(payload) == {"contract", "openapi", "findings", "verdict"}
    assert payload["openapi"] == "3.0.3"
    assert payload["verdict"] == "non-conforme"
    [finding] = payload["findings"]
    assert set(finding) == {"rule", "severity", "path", "message"}
    assert (finding["rule"], finding["severity"], finding["path"]) == ("serveurs-https", "error", "/servers/0/url")


def test_json_output_for_several_contracts_is_a_list() -> None:
    paths = [CORPUS / "conforme.yaml", CORPUS / "swagger2.yaml"]
    payload = json.loads(CliRunner().invoke(lint, [*map(str, paths), "--format", "json"]).stdout)
    assert [(p["contract"], p["openapi"], p["verdict"]) for p in payload] == [
        (str(paths[0]), "3.0.3", "conforme"),
        (str(paths[1]), "2.0", "non-conforme"),
    ]


# --- The rule registry ----------------------------------------------------------------------------------


def test_rule_ids_are_unique_kebab_case_and_documented() -> None:
    rules = [*PRELIMINARY, *STRUCTURE, *DESIGN, *SERVICE]
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)
    assert all(r.check.__doc__ for r in rules)


def test_lint_is_a_recette_subcommand() -> None:
    from harness.cli import main

    assert main.commands["lint"] is lint
