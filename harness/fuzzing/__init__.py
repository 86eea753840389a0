"""Property-based fuzzing of a titulaire against its contract (schemathesis), with our own checks.

- `settings`: budget and seed (`RECETTE_FUZZ_*`);
- `schema`: the contract loaded by schemathesis for one target (mutual TLS, base URL, budget);
- `generation`: what schemathesis generates for deposits, adjusted to the contract's prose;
- `caller`: the OAuth2 token and billing tags of every call, requests back as httpx for curl;
- `checks`: our checks (problem+json errors, complete 202, transaction limit, no 5xx on invalid data);
- `runner`: `ContractFuzzer`, one operation at a time, then sequences through the contract's links;
- `report`: distinct failures per operation, each with its curl.

Without pytest: `fuzz(target)` runs everything and returns one report per operation, plus the sequences.
"""

from __future__ import annotations

from harness.conformance.deposits import DepositLedger
from harness.foundations.target import Target
from harness.fuzzing.report import Finding, OperationReport
from harness.fuzzing.runner import SEQUENCES, ContractFuzzer, NoSequences, contract_operations
from harness.fuzzing.settings import FuzzSettings, FuzzSettingsError

__all__ = [
    "SEQUENCES",
    "ContractFuzzer",
    "Finding",
    "FuzzSettings",
    "FuzzSettingsError",
    "NoSequences",
    "OperationReport",
    "contract_operations",
    "fuzz",
]


def fuzz(
    target: Target, settings: FuzzSettings | None = None, ledger: DepositLedger | None = None
) -> list[OperationReport]:
    """Fuzz every operation of the titulaire contract on `target`, then the sequences through its links."""
    return ContractFuzzer(target, settings, ledger).run()
