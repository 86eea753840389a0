"""The contract fuzzer: its settings, its checks, and proof that it catches a faulty titulaire.

Each deliberately faulty variant of the reference (`ReferenceSettings.faults`) is fuzzed with a small,
seeded budget, and must be caught by the check meant for it, and by no other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from schemathesis import GenerationMode, Response

from harness.campaign.environment import Environment
from harness.campaign.runner import RunOptions, run_campaign
from harness.campaign.target import EmbeddedTarget, Target
from harness.conformance import DepositLedger, ReturnJudge
from harness.conformance.returns import METADATA, SINGLE
from harness.foundations.billing import BillingTags
from harness.foundations.contracts import TITULAIRE_V1, contract_path
from harness.fuzzing import ContractFuzzer, FuzzSettings, FuzzSettingsError, contract_operations
from harness.fuzzing.checks import (
    accuse_reception_complet,
    donnees_invalides_sans_erreur_serveur,
    erreur_en_problem_json,
    transaction_limit,
)
from harness.fuzzing.schema import ContractRefused
from harness.fuzzing.settings import run_seed
from harness.reference.faults import FAULTS
from tests.conftest import StartEnvironment
from tests.helpers import TESTS_DAY

V1_CONTRACT = contract_path(TITULAIRE_V1)
SMALL = FuzzSettings(seed=20261128, max_examples=3, phases=("examples", "coverage", "fuzzing"))
PROBLEM = {"type": "https://x/p", "title": "Requête invalide", "status": 400, "code": "requete-invalide"}


# -- settings ----------------------------------------------------------------------------------------


def test_settings_come_from_the_environment() -> None:
    settings = FuzzSettings.from_env(
        {"RECETTE_FUZZ_SEED": "42", "RECETTE_FUZZ_EXEMPLES": "7", "RECETTE_FUZZ_PHASES": "coverage, stateful"}
    )
    assert (settings.seed, settings.max_examples, settings.phases) == (42, 7, ("coverage", "stateful"))
    assert "RECETTE_FUZZ_SEED=42" in settings.describe()


def test_without_a_seed_each_run_draws_one() -> None:
    assert FuzzSettings.from_env({}).seed != FuzzSettings.from_env({}).seed


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"RECETTE_FUZZ_EXEMPLES": "beaucoup"}, "RECETTE_FUZZ_EXEMPLES"),
        ({"RECETTE_FUZZ_PHASES": "examples,chaos"}, "chaos"),
        ({"RECETTE_FUZZ_ETAPES": "0"}, "au moins 1"),
    ],
)
def test_bad_settings_are_refused_with_their_name(variables: dict[str, str], named: str) -> None:
    with pytest.raises(FuzzSettingsError, match=named):
        FuzzSettings.from_env(variables)


def test_the_operations_are_the_contracts() -> None:
    operations = ["deposerPieces", "consulterDepot", "retransmettreRetour", "consulterSante"]
    assert contract_operations(V1_CONTRACT) == operations


# -- our checks, on responses built by hand ----------------------------------------------------------


def response(status: int, body: Any = None, headers: dict[str, str] | None = None, sent: bytes = b"") -> Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    request = requests.Request("POST", "https://titulaire.test/v1/depots", data=sent).prepare()
    listed = {k: [v] for k, v in (headers or {}).items()}
    return Response(status_code=status, headers=listed, content=content, request=request, elapsed=0.0, verify=True)


def case(mode: GenerationMode = GenerationMode.POSITIVE) -> Any:
    meta = SimpleNamespace(generation=SimpleNamespace(mode=mode))
    return SimpleNamespace(operation=SimpleNamespace(label="POST /v1/depots"), meta=meta)


PROBLEM_JSON = {"Content-Type": "application/problem+json"}


@pytest.mark.parametrize(
    ("answer", "wrong"),
    [
        (response(400, PROBLEM, {"Content-Type": "application/json"}), "type de contenu « application/json »"),
        (response(500, b"Internal Server Error", {"Content-Type": "text/plain"}), "corps qui n'est pas un objet JSON"),
        (response(404, {k: v for k, v in PROBLEM.items() if k != "code"}, PROBLEM_JSON), "membre « code » absent"),
        (response(422, PROBLEM, PROBLEM_JSON), "« status » 400 différent du statut HTTP 422"),
    ],
)
def test_an_error_outside_rfc_9457_fails(answer: Response, wrong: str) -> None:
    with pytest.raises(AssertionError, match=wrong):
        erreur_en_problem_json(None, answer, case())  # type: ignore[arg-type]


def test_a_problem_json_error_and_a_success_pass() -> None:
    assert erreur_en_problem_json(None, response(400, PROBLEM, PROBLEM_JSON), case()) is None  # type: ignore[arg-type]
    assert erreur_en_problem_json(None, response(200, {"statut": "OK"}), case()) is None  # type: ignore[arg-type]


def test_a_202_needs_location_and_id_depot() -> None:
    receipt = {"idDepot": "5b1f0a52-3f43-4d2b-9d59-cf1c3c0b0b57"}
    assert accuse_reception_complet(None, response(202, receipt, {"Location": "/v1/depots/x"}), case()) is None  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="en-tête Location absent ; idDepot absent du corps"):
        accuse_reception_complet(None, response(202, {}), case())  # type: ignore[arg-type]


def test_request_and_response_bodies_count_in_the_transaction() -> None:
    check = transaction_limit(100)
    assert check(None, response(202, b"x" * 40, sent=b"y" * 60), case()) is None  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="60 \\+ 41 = 101 octets, au-delà de la limite de 100"):
        check(None, response(202, b"x" * 41, sent=b"y" * 60), case())  # type: ignore[arg-type]


def test_only_invalid_data_answered_5xx_fails() -> None:
    negative, positive = case(GenerationMode.NEGATIVE), case(GenerationMode.POSITIVE)
    assert donnees_invalides_sans_erreur_serveur(None, response(422, PROBLEM, PROBLEM_JSON), negative) is None  # type: ignore[arg-type]
    assert donnees_invalides_sans_erreur_serveur(None, response(503, PROBLEM, PROBLEM_JSON), positive) is None  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="ont reçu 500"):
        donnees_invalides_sans_erreur_serveur(None, response(500, PROBLEM, PROBLEM_JSON), negative)  # type: ignore[arg-type]


# -- the fuzzer against faulty variants of the reference ---------------------------------------------


def target_of(env: Environment) -> Target:
    return EmbeddedTarget(BillingTags.create("build:tests-fuzzing"), env, major=env.current_major())


@pytest.fixture
def faulty(new_environment: StartEnvironment) -> Iterator[StartEnvironment]:
    """Start a reference with deliberate defects (responses off contract are expected: not audited)."""
    return lambda **settings: new_environment(validate_responses=False, **settings)


@pytest.mark.parametrize(
    ("fault", "operation", "expected"),
    [
        ("erreur-500-metadonnees", "deposerPieces", {"not_a_server_error", "donnees_invalides_sans_erreur_serveur"}),
        ("reponse-hors-contrat", "consulterSante", {"response_schema_conformance"}),
        ("location-absente", "deposerPieces", {"accuse_reception_complet"}),
        ("trace-dans-le-detail", "deposerPieces", {"erreur_sans_fuite"}),
    ],
)
def test_each_faulty_response_is_caught_by_its_check(
    fault: str, operation: str, expected: set[str], faulty: StartEnvironment, tmp_path: Path
) -> None:
    target = target_of(faulty(faults=(fault,)))
    report = ContractFuzzer(target, SMALL, evidence_dir=tmp_path).fuzz_operation(operation)
    assert report.checks == expected, [f.evidence() for f in report.findings]
    finding = report.findings[0]
    assert "--cert" in finding.curl
    assert "--key" in finding.curl
    assert "$TOKEN" in finding.curl
    assert f"/v1/{'sante' if operation == 'consulterSante' else 'depots'}" in finding.curl


def test_a_faulty_operation_leaves_the_others_clean(faulty: StartEnvironment, tmp_path: Path) -> None:
    target = target_of(faulty(faults=("reponse-hors-contrat",)))
    report = ContractFuzzer(target, SMALL, evidence_dir=tmp_path).fuzz_operation("consulterDepot")
    assert report.calls > 0
    assert report.findings == []


def test_a_transaction_over_the_targets_limit_is_caught(new_environment: StartEnvironment, tmp_path: Path) -> None:
    target = target_of(new_environment())
    target.limit_bytes = 400
    report = ContractFuzzer(target, SMALL, evidence_dir=tmp_path).fuzz_operation("deposerPieces")
    assert "transaction_dans_la_limite" in report.checks


def fuzzed_returns(env: Environment, tmp_path: Path) -> list[Any]:
    """Fuzz deposits on `env`, then judge their returns."""
    target, ledger = target_of(env), DepositLedger()
    report = ContractFuzzer(target, SMALL, ledger, tmp_path).fuzz_operation("deposerPieces")
    assert report.findings == []
    assert len(ledger) > 0
    with target.inspector() as inspector:
        return ReturnJudge(inspector, lambda _: None, settle_seconds=0.5).verdicts(ledger)


def test_a_second_return_is_caught_by_the_single_return_rule(faulty: StartEnvironment, tmp_path: Path) -> None:
    verdicts = fuzzed_returns(faulty(faults=("retour-double",)), tmp_path)
    assert all(v.rules() == {SINGLE} for v in verdicts), [v.evidence() for v in verdicts]


def test_a_dropped_metadata_field_is_caught_by_the_echo_rule(faulty: StartEnvironment, tmp_path: Path) -> None:
    verdicts = fuzzed_returns(faulty(faults=("retour-sans-metadonnee",)), tmp_path)
    with_business_data = [
        v for v in verdicts if v.deposit.sent and "donneesMetier" in (v.deposit.sent.metadonnees or {})
    ]
    assert with_business_data, "aucun dépôt fuzzé avec donneesMetier"
    assert all(v.rules() == {METADATA} for v in with_business_data)
    assert all("« donneesMetier » absent du retour" in v.evidence() for v in with_business_data)
    assert all(v.conforming for v in verdicts if v not in with_business_data)


def test_the_reference_returns_pass(new_environment: StartEnvironment, tmp_path: Path) -> None:
    verdicts = fuzzed_returns(new_environment(), tmp_path)
    assert all(v.conforming for v in verdicts), [v.evidence() for v in verdicts if not v.conforming]


def test_every_fault_is_documented_and_unknown_ones_refused(new_environment: StartEnvironment) -> None:
    assert set(FAULTS) >= {"retour-double", "erreur-500-metadonnees", "reponse-hors-contrat", "location-absente"}
    with pytest.raises(ValueError, match="unknown faults"):
        new_environment(faults=("panne-inventee",))


# -- the platform's own contract: Swagger 2.0 fuzzed, 3.1 refused ------------------------------------

SWAGGER2 = Path(__file__).parent / "fuzz_corpus" / "titulaire-swagger2.yaml"


def test_a_swagger_2_contract_is_fuzzed_like_a_3_0_one(new_environment: StartEnvironment, tmp_path: Path) -> None:
    fuzzer = ContractFuzzer(target_of(new_environment()), SMALL, evidence_dir=tmp_path, contract=SWAGGER2)
    assert contract_operations(SWAGGER2) == fuzzer.operations() == ["consulterDepot", "consulterSante"]
    reports = fuzzer.run()
    assert all(r.calls > 0 and r.findings == [] for r in reports), [r.summary() for r in reports]
    assert sum(r.statuses[404] for r in reports) > 0, "unknown idDepot values were sent"


def test_a_swagger_2_contract_still_catches_a_faulty_titulaire(faulty: StartEnvironment, tmp_path: Path) -> None:
    target = target_of(faulty(faults=("reponse-hors-contrat",)))
    report = ContractFuzzer(target, SMALL, evidence_dir=tmp_path, contract=SWAGGER2).fuzz_operation("consulterSante")
    assert report.checks == {"response_schema_conformance"}, [f.evidence() for f in report.findings]


def test_an_openapi_3_1_contract_is_refused(new_environment: StartEnvironment, tmp_path: Path) -> None:
    contract = tmp_path / "openapi-31.yaml"
    contract.write_text(V1_CONTRACT.read_text(encoding="utf-8").replace("openapi: 3.0.3", "openapi: 3.1.0"))
    with pytest.raises(ContractRefused, match=r"l'ASP ne prend pas en charge OpenAPI 3\.1"):
        ContractFuzzer(target_of(new_environment()), SMALL, contract=contract)


def test_a_runs_seed_is_the_variables_when_set_else_a_new_one() -> None:
    assert run_seed({"RECETTE_FUZZ_SEED": " 42 "}) == 42
    assert run_seed({}) != run_seed({})
    with pytest.raises(FuzzSettingsError, match="RECETTE_FUZZ_SEED='quarante' : un entier est attendu"):
        run_seed({"RECETTE_FUZZ_SEED": "quarante"})


@pytest.mark.parametrize("given", [None, "20261215"], ids=["tiree", "imposee"])
def test_the_runner_draws_one_seed_that_the_contrat_suite_fuzzes_with(
    given: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if given is None:
        monkeypatch.delenv("RECETTE_FUZZ_SEED", raising=False)
    else:
        monkeypatch.setenv("RECETTE_FUZZ_SEED", given)
    monkeypatch.setenv("RECETTE_FUZZ_EXEMPLES", "2")
    tags = BillingTags.create("build:tests-graine")
    report = run_campaign(RunOptions(tmp_path, tags, ("contrat",), keywords="consulterSante", day=TESTS_DAY))
    assert report.fuzz_seed is not None
    assert given is None or report.fuzz_seed == int(given)
    (fuzzed,) = [r for r in report.results if "consulterSante" in r.scenario]
    assert f"graine {report.fuzz_seed} " in fuzzed.evidence[0]
    summary = json.loads((tmp_path / tags.run_id / "summary.json").read_text(encoding="utf-8"))
    assert summary["graineFuzzing"] == report.fuzz_seed
    assert os.environ.get("RECETTE_FUZZ_SEED") == given, "the runner leaves the variable as it found it"
