"""What a campaign gives its suites (registered by `CampaignPlugin`): their whole view of the campaign.

Fixtures: `cible`, `depots_suivis`, `depots_d_avance`, `reponses_d_erreur`, `preuves`, `intituler`, `reproduire`,
`dossier_execution`, `publier_charge`; and `platform_contract(config)` where no fixture is at hand.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.campaign.ahead import DepositsAhead
from harness.campaign.plugin import campaign_of, observation_of
from harness.campaign.target import Target
from harness.conformance.deposits import DepositLedger
from harness.security import ErrorAnswers

Title = Callable[[str], None]
"""`intituler`: give the current test its title."""
Reproduce = Callable[[httpx.Request], None]
"""`reproduire`: name the request that reproduces the current test's failure."""
PublishLoad = Callable[[dict[str, Any]], None]
"""`publier_charge`: publish the QoS verdict of the `charge` suite."""


def platform_contract(config: pytest.Config) -> Path:
    """The contract the run holds the platform to: its own when its configuration gives one, else the ASP's
    contract of the run's major."""
    contract = campaign_of(config).contract
    assert contract is not None, "the runner gives every campaign its contract"
    return contract


@pytest.fixture(scope="session")
def cible(request: pytest.FixtureRequest) -> Target:
    """The titulaire under qualification."""
    return campaign_of(request.config).target


@pytest.fixture(scope="session")
def depots_suivis(request: pytest.FixtureRequest) -> DepositLedger:
    """Every deposit the run made (scenarios and fuzzer): the `contrat` suite judges their returns at the end."""
    return campaign_of(request.config).deposits


@pytest.fixture(scope="session")
def depots_d_avance(request: pytest.FixtureRequest) -> DepositsAhead[Any]:
    """The scenarios' deposits made ahead, so that their returns are awaited concurrently (`harness.campaign.ahead`)."""
    return campaign_of(request.config).ahead


@pytest.fixture(scope="session")
def reponses_d_erreur(request: pytest.FixtureRequest) -> ErrorAnswers:
    """Every error answer the run's ASP clients received so far, examined for leaks (judged by `securite`)."""
    return campaign_of(request.config).error_answers


@pytest.fixture
def preuves(request: pytest.FixtureRequest) -> list[str]:
    """Evidence a step records; it lands in the PV and in Allure."""
    return observation_of(request.node).evidence


@pytest.fixture
def intituler(request: pytest.FixtureRequest) -> Title:
    """Give the current test the title the reports show (else its docstring's first line)."""

    def title(text: str) -> None:
        observation_of(request.node).scenario = text

    return title


@pytest.fixture
def reproduire(request: pytest.FixtureRequest) -> Reproduce:
    """Name the request whose curl reproduces the current test's failure (else its last request)."""

    def reproduction(sent: httpx.Request) -> None:
        observation_of(request.node).reproduction = sent

    return reproduction


@pytest.fixture(scope="session")
def dossier_execution(request: pytest.FixtureRequest, cible: Target, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's report folder `<rapports>/<idExecution>` (a temporary one under plain pytest)."""
    return campaign_of(request.config).run_dir or tmp_path_factory.mktemp("rapports") / cible.tags.run_id


@pytest.fixture(scope="session")
def publier_charge(request: pytest.FixtureRequest) -> PublishLoad:
    """Publish the `charge` suite's QoS verdict (`qos.json` data) to the run's reports."""
    return campaign_of(request.config).publish_load
