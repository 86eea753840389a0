"""The BDD suite: `features/` (French Gherkin) bound to the target through the ASP client and the mock callback.

The target comes from the campaign plugin (`recette run`, or `harness/campaign/embedded.py` under pytest).
"""

from __future__ import annotations

import pytest

STEP_MODULES = (
    "tests.bdd.steps.communs",
    "tests.bdd.steps.depots",
    "tests.bdd.steps.erreurs",
    "tests.bdd.steps.limite",
    "tests.bdd.steps.retours",
    "tests.bdd.steps.conservation",
    "tests.bdd.steps.incidents",
    "tests.bdd.steps.securite",
    "tests.bdd.steps.facturation",
    "tests.bdd.steps.versions",
)
TAGS = {"lent": 'scénario lent (quelques secondes) : à écarter d\'une campagne rapide avec --tags "not lent"'}


def pytest_configure(config: pytest.Config) -> None:
    for tag, meaning in TAGS.items():
        config.addinivalue_line("markers", f"{tag}: {meaning}")
    for module in STEP_MODULES:
        config.pluginmanager.import_plugin(module)
