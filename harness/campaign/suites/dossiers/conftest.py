"""The `dossiers` suite: its steps, and the API mode's steps it reuses (dossier, returns, acknowledgement,
retention, the 20 MB refusal)."""

from __future__ import annotations

import pytest

from harness.campaign.suites.bdd.conftest import TAGS

STEP_MODULES = (
    "harness.campaign.suites.bdd.steps.communs",
    "harness.campaign.suites.bdd.steps.depots",
    "harness.campaign.suites.bdd.steps.limite",
    "harness.campaign.suites.bdd.steps.retours",
    "harness.campaign.suites.bdd.steps.conservation",
    "harness.campaign.suites.dossiers.steps",
)


def pytest_configure(config: pytest.Config) -> None:
    for tag, meaning in TAGS.items():
        config.addinivalue_line("markers", f"{tag}: {meaning}")
    for module in STEP_MODULES:
        config.pluginmanager.import_plugin(module)
