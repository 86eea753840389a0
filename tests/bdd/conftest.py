"""The BDD suite: `features/` (French Gherkin) bound to the target through the ASP client and the mock callback.

Under `recette run` the campaign plugin brings the target; under plain pytest (`make test`) the target is
an embedded reference, started once for the session and tagged `build:tests-harnais`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from harness.billing import BillingTags
from harness.campaign.plugin import PLUGIN_NAME, CampaignPlugin
from harness.clock import OffsetClock
from harness.environment import Environment, EnvironmentOptions
from harness.target import Target

STEP_MODULES = ("tests.bdd.steps.communs", "tests.bdd.steps.depots")


def pytest_configure(config: pytest.Config) -> None:
    if not any(isinstance(plugin, CampaignPlugin) for plugin in config.pluginmanager.get_plugins()):
        config.pluginmanager.register(CampaignPlugin(lambda: _embedded_target(config)), PLUGIN_NAME)
    for module in STEP_MODULES:
        config.pluginmanager.import_plugin(module)


def _embedded_target(config: pytest.Config) -> Target:
    directory = Path(tempfile.mkdtemp(prefix="recette-bdd-"))
    env = Environment(directory, EnvironmentOptions(clock=OffsetClock())).start()
    config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
    config.add_cleanup(env.stop)
    return Target.embedded(env, BillingTags.create(os.environ.get("RECETTE_MOTIF", "build:tests-harnais")))
