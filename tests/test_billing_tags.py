"""The harness's own billing tags: every request of a run carries them, and a run is labelled by its motif."""

from __future__ import annotations

import httpx
import pytest

from harness.campaign.environment import Environment
from harness.campaign.target import EmbeddedTarget
from harness.foundations.billing import BILLABLE_LABEL, BillingTags
from tests.conftest import metadonnees, pdf


def test_every_request_of_the_asp_client_carries_the_run_tags(env: Environment) -> None:
    tags = BillingTags.create("recette")
    sent: list[httpx.Request] = []
    target = EmbeddedTarget(tags, env, major=env.current_major(), on_request=sent.append)
    with target.asp_client() as asp:
        receipt = asp.deposit(metadonnees(), [pdf()]).json()
        asp.state(receipt["idDepot"])
    assert len(sent) >= 2
    for request in sent:
        assert {name: request.headers.get(name) for name in tags.headers()} == tags.headers(), request.url


@pytest.mark.parametrize(("motif", "billable"), [("recette", True), ("evolution:EVO-7", False), ("build:LOT-2", False)])
def test_a_run_is_labelled_environnement_de_recette_only_when_its_motif_is_the_recette(
    motif: str, billable: bool
) -> None:
    tags = BillingTags.create(motif)
    assert tags.billable is billable
    assert (tags.label == BILLABLE_LABEL) is billable
    if not billable:
        assert motif in tags.label
    labels = tags.labels()
    assert (labels["recette.libelle"], labels["recette.idExecution"]) == (tags.label, tags.run_id)
