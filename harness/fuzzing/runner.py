"""The contract fuzzer: schemathesis' phases against a target, one operation at a time, then sequences.

Each operation runs the phases of its Hypothesis test, as schemathesis builds it (`create_test`): the
contract's examples, the coverage cases (boundaries, every negative mutation, undeclared methods), then
generated cases. The sequences follow the contract's links (deposit → state → retransmission) through
schemathesis' state machine. Every response goes through all of schemathesis' checks and ours; a failing
response does not stop the run: each distinct failure is kept with a curl that replays it.

Why not schemathesis' pytest integration (`@schema.parametrize()`): under pytest 9.2 its items share one
node id per test function (`test_api` four times instead of `test_api[POST /v1/depots]`…), which breaks
JUnit and Allure reports and `-k`. The campaign drives this fuzzer from plain tests instead, one per
operation, with explicit ids.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import requests
import yaml
from schemathesis import APIOperation, Case, Response
from schemathesis.checks import Failure
from schemathesis.core.result import Err  # what `get_all_operations()` yields for a broken operation; not re-exported
from schemathesis.errors import FailureGroup, NoLinksFound

# Not public: schemathesis runs the examples and coverage phases only from its CLI engine and its pytest plugin
# (the plugin is unusable here, see above); `create_test` is how both build an operation's Hypothesis test.
from schemathesis.generation import derive_operation_seed  # the seed schemathesis itself gives an operation
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test

from harness.conformance.deposits import DepositLedger
from harness.foundations.contracts import contract_path
from harness.foundations.curl import as_curl
from harness.foundations.document import HTTP_METHODS
from harness.foundations.target import Target
from harness.fuzzing.caller import TargetCaller, as_httpx, body_size, content_type, sent_body
from harness.fuzzing.checks import check_of, harness_checks
from harness.fuzzing.generation import DEPOSIT_OPERATION, operation_id
from harness.fuzzing.report import Finding, OperationReport
from harness.fuzzing.schema import load_schema
from harness.fuzzing.settings import FuzzSettings

SEQUENCES = "sequences"
"""The name of the stateful run's report."""
MODES = {"examples": HypothesisTestMode.EXAMPLES, "coverage": HypothesisTestMode.COVERAGE}


def contract_operations(contract: Path) -> list[str]:
    """The operationIds of a contract, in its order (read from the file, no target needed)."""
    paths = yaml.safe_load(contract.read_text(encoding="utf-8")).get("paths") or {}
    return [
        op.get("operationId") or f"{method.upper()} {path}"
        for path, item in paths.items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


class NoSequences(Exception):
    """The contract defines no links: there are no sequences to follow (its message says so, for a skip)."""


class ContractFuzzer:
    """Fuzzes a target against the titulaire contract; deposits it makes go to `ledger` (for their returns)."""

    def __init__(
        self,
        target: Target,
        settings: FuzzSettings | None = None,
        ledger: DepositLedger | None = None,
        evidence_dir: Path | None = None,
        contract: Path | None = None,
    ) -> None:
        """`contract`: the platform's own; None: the ASP's contract of the target's major."""
        self.target = target
        self.contract = contract or contract_path(target.major.contract)
        self.settings = settings or FuzzSettings.from_env()
        self.ledger = ledger
        self.evidence_dir = evidence_dir
        """Where large or binary request bodies of reproductions are written (None: not kept)."""
        self.schema = load_schema(target, self.settings, self.contract)
        self.caller = TargetCaller(target)
        self.checks = harness_checks(target.limit_bytes)

    def operations(self) -> list[str]:
        """The operationIds of the contract, in its order."""
        return [operation_id(operation) for operation in self._operations()]

    def _operations(self) -> list[APIOperation]:
        """The contract's operations; schemathesis' `InvalidSchema` for one it cannot build (could not run)."""
        operations = []
        for result in self.schema.get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            operations.append(result.ok())
        return operations

    def run(self) -> list[OperationReport]:
        """Every operation, then the sequences when the stateful phase is on."""
        reports = [self.fuzz_operation(name) for name in self.operations()]
        if "stateful" in self.settings.phases:
            with contextlib.suppress(NoSequences):
                reports.append(self.fuzz_sequences())
        return reports

    # -- one operation -------------------------------------------------------------------------------

    def fuzz_operation(self, name: str) -> OperationReport:
        """The examples, coverage and fuzzing phases of one operation."""
        operation = self._operation(name)
        seed = derive_operation_seed(self.settings.seed, operation.label) or 0
        report = OperationReport(name, operation.label, seed)
        modes = [MODES[p] for p in self.settings.phases if p in MODES]
        if "fuzzing" in self.settings.phases:
            modes.append(HypothesisTestMode.FUZZING)
        if not modes:
            return report
        project = self.schema.config
        config = HypothesisTestConfig(
            project=project,
            modes=modes,
            settings=project.get_hypothesis_settings(operation=operation, phase="fuzzing"),
            seed=seed,
        )
        create_test(operation=operation, test_func=lambda case: self.exchange(case, report), config=config)()
        return report

    def _operation(self, name: str) -> APIOperation:
        for operation in self._operations():
            if operation_id(operation) == name:
                return operation
        raise KeyError(f"opération inconnue du contrat : {name}")

    # -- sequences through the links -----------------------------------------------------------------

    def fuzz_sequences(self) -> OperationReport:
        """Sequences of calls chained by the contract's links, from schemathesis' state machine."""
        seed = derive_operation_seed(self.settings.seed, SEQUENCES) or 0
        report = OperationReport(SEQUENCES, "Séquences par les liens du contrat", seed)
        machine = hypothesis.seed(seed)(self._state_machine(report))
        settings = hypothesis.settings(
            self.schema.config.get_hypothesis_settings(phase="stateful"),
            max_examples=self.settings.sequences,
            stateful_step_count=self.settings.sequence_steps,
        )
        try:
            machine.run(settings=settings)
        except NoLinksFound:
            raise NoSequences(
                f"{self.contract.name} ne définit aucun lien OpenAPI (links ; Swagger 2.0 n'en a pas) : "
                "aucune séquence à suivre"
            ) from None
        return report

    def _state_machine(self, report: OperationReport) -> Any:
        fuzzer = self

        class Sequences(self.schema.as_state_machine()):  # type: ignore[misc]
            def get_call_kwargs(self, case: Case) -> dict[str, Any]:
                return {"headers": fuzzer.caller.headers()}

            def call(self, case: Case, **kwargs: Any) -> Response:
                response = case.call(**kwargs)
                fuzzer.track(case, response, report)
                return response

            def validate_response(self, response: Response, case: Case, *_: Any, **kwargs: Any) -> None:
                fuzzer.validate(case, response, kwargs["headers"], report, self.recorder)

        return Sequences

    # -- one exchange --------------------------------------------------------------------------------

    def exchange(self, case: Case, report: OperationReport) -> None:
        """Send a case, keep its deposit, judge its response; failures are recorded, never raised."""
        headers = self.caller.headers()
        try:
            response = case.call(headers=headers)
        except requests.RequestException as error:
            sent = error.request if isinstance(error.request, requests.PreparedRequest) else None
            curl = self._curl(as_httpx(sent), report) if sent is not None else case.as_curl_command()
            report.add(Finding("connexion", type(error).__name__, str(error), None, _phase(case), curl))
            return
        self.track(case, response, report)
        self.validate(case, response, headers, report)

    def track(self, case: Case, response: Response, report: OperationReport) -> None:
        """Count the call; meter a deposit (billing) and keep it for its return when accepted."""
        report.statuses[response.status_code] += 1
        if operation_id(case.operation) != DEPOSIT_OPERATION:
            return
        request = response.request
        self.target.meter.record(body_size(request), response)  # type: ignore[arg-type]  # status_code, json()
        if self.ledger is not None and response.status_code == 202:
            receipt = _json_or_none(response)
            origin = f"fuzzing {report.name}"
            self.ledger.record_exchange(sent_body(request), content_type(request), receipt, origin, self.target.major)

    def validate(
        self, case: Case, response: Response, headers: dict[str, str], report: OperationReport, recorder: Any = None
    ) -> None:
        """All of schemathesis' checks, and ours."""
        try:
            case.validate_response(
                response,
                headers=headers,
                additional_checks=self.checks,
                transport_kwargs=self.caller.transport_kwargs(headers),
                recorder=recorder,
            )
        except FailureGroup as group:
            for failure in group.exceptions:
                if not report.seen_again(check_of(failure), failure.title, failure.message):
                    report.add(self._finding(failure, case, response, report))

    def _finding(self, failure: Failure, case: Case, response: Response, report: OperationReport) -> Finding:
        request = as_httpx(response.request)
        curl = self._curl(request, report)
        status = response.status_code
        return Finding(check_of(failure), failure.title, failure.message, status, _phase(case), curl, request=request)

    def _curl(self, request: httpx.Request, report: OperationReport) -> str:
        """The curl command of a request, with the mutual TLS flags; a binary body is saved beside the reports."""
        directory = self.evidence_dir / f"{report.name}-{len(report.findings) + 1:02d}" if self.evidence_dir else None
        return as_curl(request, self.target.tls_paths, directory)


def _phase(case: Case) -> str:
    meta = case.meta
    return f"{meta.phase.name.value}/{meta.generation.mode.value}" if meta is not None else "inconnue"


def _json_or_none(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
