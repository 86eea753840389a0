"""Steps of recette billing: what the harness counts, the titulaire records with the run's tags."""

from __future__ import annotations

from pytest_bdd import given, then

from harness.campaign.suites.bdd.steps.communs import Scenario
from harness.campaign.target import Target
from harness.reference.service import Titulaire


def counts(cible: Target, reference: Titulaire) -> tuple[int, int, int, int]:
    """Deposits and bytes the harness sent in this run, then those the titulaire recorded for it."""
    recorded, recorded_bytes = reference.store.deposits_of_run(cible.tags.run_id)
    return cible.meter.deposits, cible.meter.bytes_sent, recorded, recorded_bytes


def describe(moment: str, values: tuple[int, int, int, int]) -> str:
    return "{} : harnais {} dépôts / {} octets ; titulaire {} dépôts / {} octets".format(moment, *values)


def reference_of(cible: Target) -> Titulaire:
    assert cible.reference is not None, "scénario réservé à l'implémentation de référence"
    return cible.reference


@given("les compteurs de facturation de l'exécution sont relevés")
def compteurs_releves(scenario: Scenario, cible: Target, preuves: list[str]) -> None:
    scenario.billing_counts = counts(cible, reference_of(cible))
    preuves.append(describe("avant", scenario.billing_counts))


@then("le titulaire a enregistré chaque dépôt avec l'identifiant d'exécution et le motif de la recette")
def depots_etiquetes(scenario: Scenario, cible: Target, preuves: list[str]) -> None:
    store = reference_of(cible).store
    for depot in scenario.depots:
        record = store.deposit(depot.id_depot)
        assert record is not None, f"dépôt {depot.id_depot} inconnu du titulaire"
        preuves.append(f"dépôt {record.id} : exécution {record.run_id}, motif {record.motif}")
        assert (record.run_id, record.motif) == (cible.tags.run_id, cible.tags.motif), record


@then("les dépôts et les octets comptés par le harnais pendant le scénario sont ceux que le titulaire a enregistrés")
def compteurs_concordants(scenario: Scenario, cible: Target, preuves: list[str]) -> None:
    assert scenario.billing_counts is not None, "compteurs non relevés avant les dépôts"
    now = counts(cible, reference_of(cible))
    preuves.append(describe("après", now))
    sent, sent_bytes, recorded, recorded_bytes = (b - a for a, b in zip(scenario.billing_counts, now, strict=True))
    assert sent == len(scenario.depots), f"le harnais a compté {sent} dépôts pour {len(scenario.depots)} envoyés"
    assert (recorded, recorded_bytes) == (sent, sent_bytes), (
        f"titulaire {recorded} dépôts / {recorded_bytes} octets, harnais {sent} dépôts / {sent_bytes} octets"
    )
