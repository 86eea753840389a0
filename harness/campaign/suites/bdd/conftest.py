"""The BDD suite: `features/` (French Gherkin) bound to the target through the ASP client and the mock callback.

The target comes from the campaign plugin `recette run` registers.
"""

from __future__ import annotations

import pytest

STEP_MODULES = (
    "harness.campaign.suites.bdd.steps.communs",
    "harness.campaign.suites.bdd.steps.depots",
    "harness.campaign.suites.bdd.steps.erreurs",
    "harness.campaign.suites.bdd.steps.limite",
    "harness.campaign.suites.bdd.steps.retours",
    "harness.campaign.suites.bdd.steps.conservation",
    "harness.campaign.suites.bdd.steps.incidents",
    "harness.campaign.suites.bdd.steps.facturation",
    "harness.campaign.suites.bdd.steps.versions",
)
TAGS = {"lent": 'scénario lent (quelques secondes) : à écarter d\'une campagne rapide avec --tags "not lent"'}


def pytest_configure(config: pytest.Config) -> None:
    for tag, meaning in TAGS.items():
        config.addinivalue_line("markers", f"{tag}: {meaning}")
    for module in STEP_MODULES:
        config.pluginmanager.import_plugin(module)
