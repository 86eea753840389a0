"""The fixtures a campaign gives its suites (registered by `CampaignPlugin`)."""

from __future__ import annotations

from collections.abc import Iterator

import allure
import pytest

from harness.campaign.plugin import CAMPAIGN, SCENARIO
from harness.target import Target


@pytest.fixture(scope="session")
def cible(request: pytest.FixtureRequest) -> Target:
    """The titulaire under qualification."""
    return request.config.stash[CAMPAIGN].target


@pytest.fixture(autouse=True)
def etiquettes_de_facturation(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every result that touches the target carries the run's billing tags: Allure labels, JUnit properties."""
    campaign = request.config.stash[CAMPAIGN]
    if "cible" not in request.fixturenames:
        yield
        return
    for name, value in campaign.target.tags.labels().items():
        allure.dynamic.label(name, value)
        request.node.user_properties.append((name, value))
    campaign.journal.clear()
    yield


@pytest.fixture
def preuves(request: pytest.FixtureRequest) -> list[str]:
    """Evidence a step records; it lands in the PV and in Allure."""
    return request.node.stash.setdefault(SCENARIO, {}).setdefault("evidence", [])
