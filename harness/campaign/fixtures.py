"""The fixtures a campaign gives its suites (registered by `CampaignPlugin`)."""

from __future__ import annotations

import pytest

from harness.campaign.plugin import CAMPAIGN, SCENARIO
from harness.target import Target


@pytest.fixture(scope="session")
def cible(request: pytest.FixtureRequest) -> Target:
    """The titulaire under qualification."""
    return request.config.stash[CAMPAIGN].target


@pytest.fixture
def preuves(request: pytest.FixtureRequest) -> list[str]:
    """Evidence a step records; it lands in the PV and in Allure."""
    return request.node.stash.setdefault(SCENARIO, {}).setdefault("evidence", [])
