"""The campaign under plain pytest (`make test`): the suites run against an embedded reference.

`recette run` registers its own `CampaignPlugin`; when none is registered, this one is, with an embedded
reference started the first time a test asks for the target, tagged `build:tests-harnais`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from harness.campaign.environment import Environment, EnvironmentOptions
from harness.campaign.plugin import PLUGIN_NAME, CampaignPlugin
from harness.campaign.target import EmbeddedTarget, Target
from harness.foundations.billing import BillingTags
from harness.foundations.clock import OffsetClock

DEFAULT_MOTIF = "build:tests-harnais"


def register_embedded_campaign(config: pytest.Config) -> None:
    """Register a campaign on an embedded reference, unless `recette run` registered one."""
    if not any(isinstance(plugin, CampaignPlugin) for plugin in config.pluginmanager.get_plugins()):
        config.pluginmanager.register(CampaignPlugin(lambda: embedded_target(config)), PLUGIN_NAME)


def embedded_target(config: pytest.Config) -> Target:
    """An embedded environment for the session, stopped and removed at its end."""
    directory = Path(tempfile.mkdtemp(prefix="recette-campagne-"))
    env = Environment(directory, EnvironmentOptions(clock=OffsetClock())).start()
    config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
    config.add_cleanup(env.stop)
    return EmbeddedTarget(BillingTags.create(os.environ.get("RECETTE_MOTIF", DEFAULT_MOTIF)), env)
