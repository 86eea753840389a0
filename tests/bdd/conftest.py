"""The BDD suite: `features/` (French Gherkin) bound to the target through the ASP client and the mock callback.

The target comes from the campaign plugin (`recette run`, or `harness/campaign/embedded.py` under pytest).
"""

from __future__ import annotations

import pytest

STEP_MODULES = ("tests.bdd.steps.communs", "tests.bdd.steps.depots")


def pytest_configure(config: pytest.Config) -> None:
    for module in STEP_MODULES:
        config.pluginmanager.import_plugin(module)
