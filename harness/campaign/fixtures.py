"""The fixtures a campaign gives its suites (registered by `CampaignPlugin`)."""

from __future__ import annotations

import pytest

from harness.campaign.plugin import CAMPAIGN, SCENARIO
from harness.campaign.target import Target
from harness.conformance.deposits import DepositLedger


@pytest.fixture(scope="session")
def cible(request: pytest.FixtureRequest) -> Target:
    """The titulaire under qualification."""
    return request.config.stash[CAMPAIGN].target


@pytest.fixture(scope="session")
def depots_suivis(request: pytest.FixtureRequest) -> DepositLedger:
    """Every deposit the run made (scenarios and fuzzer): the `contrat` suite judges their returns at the end."""
    return request.config.stash[CAMPAIGN].deposits


@pytest.fixture
def preuves(request: pytest.FixtureRequest) -> list[str]:
    """Evidence a step records; it lands in the PV and in Allure."""
    return request.node.stash.setdefault(SCENARIO, {}).setdefault("evidence", [])
