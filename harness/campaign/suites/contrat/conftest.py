"""The `contrat` suite: fuzzing of the titulaire contract, then the returns of every deposit of the run.

The target comes from the campaign plugin `recette run` registers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.campaign.fixtures import platform_contract
from harness.fuzzing import contract_operations

LAST = "apres_les_suites"


def fuzzed_contract(config: pytest.Config) -> Path:
    """The contract fuzzed: the platform's own, or the ASP's titulaire contract of the run's major."""
    return platform_contract(config)


@pytest.fixture(scope="session")
def contrat(request: pytest.FixtureRequest) -> Path:
    """The contract fuzzed (see `fuzzed_contract`)."""
    return fuzzed_contract(request.config)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{LAST}: jugé après tous les autres tests de l'exécution (retours des dépôts)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per operation of the contract fuzzed."""
    if "operation" in metafunc.fixturenames:
        metafunc.parametrize("operation", contract_operations(fuzzed_contract(metafunc.config)), ids=str)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The returns are judged once every suite of the run has made its deposits, whatever the suites' order."""
    last = [item for item in items if item.get_closest_marker(LAST)]
    items[:] = [item for item in items if not item.get_closest_marker(LAST)] + last
