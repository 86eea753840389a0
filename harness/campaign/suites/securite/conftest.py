"""The `securite` suite: its steps, registered for `securite.feature`."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("harness.campaign.suites.securite.steps")
