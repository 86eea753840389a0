"""The `papier` suite: its steps (and the shared ones of the `bdd` suite), registered for `papier.feature`."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("harness.campaign.suites.bdd.steps.communs")
    config.pluginmanager.import_plugin("harness.campaign.suites.papier.steps")
