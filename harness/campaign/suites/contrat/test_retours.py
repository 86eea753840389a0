"""Conformité des retours à l'API de retour de l'ASP

Judged once every suite of the run has made its deposits (scenarios and fuzzer alike, see
`harness/conformance/`): each deposit has exactly one return, received by the ASP's callback API, that
conforms to the titulaire contract's `callbacks` and to the asp-callback contract, matches its deposit
(same idDepot, every metadata field echoed unchanged, one piece per document) and arrived within the
service contract's `delaiMaxRetour`. A deposit still without a return then is a failure.
"""

from __future__ import annotations

import pytest

from harness.campaign.target import Target
from harness.conformance import DepositLedger, ReturnJudge, max_return_delay
from harness.conformance.callbacks import EXPIRED
from harness.foundations.asp_client import AspClient


@pytest.mark.apres_les_suites
def test_chaque_depot_a_un_retour_conforme(cible: Target, depots_suivis: DepositLedger, preuves: list[str]) -> None:
    """Chaque dépôt de l'exécution a son unique retour conforme"""
    if not len(depots_suivis):
        pytest.skip("aucun dépôt dans cette exécution : aucun retour à juger")
    with cible.inspector() as inspector, cible.asp_client() as asp:
        judge = ReturnJudge(
            inspector, lambda id_depot: deposit_status(asp, id_depot), max_return_delay(cible.service_contract)
        )
        verdicts = judge.verdicts(depots_suivis)
    faulty = [v for v in verdicts if not v.conforming]
    preuves.append(
        f"{len(verdicts)} dépôt(s) suivi(s), {len(faulty)} retour(s) non conforme(s), délai maximal {judge.max_delay}"
    )
    preuves += [v.evidence() for v in verdicts if v.excused or not v.conforming]
    if faulty:
        shown = " | ".join(v.evidence() for v in faulty[:3])
        pytest.fail(f"{len(faulty)} dépôt(s) sans retour conforme, dont : {shown}", pytrace=False)


def deposit_status(asp: AspClient, id_depot: str) -> str | None:
    """The titulaire's StatutDepot of a deposit, if it says; `EXPIRED` past its retention (410)."""
    response = asp.state(id_depot)
    if response.status_code == 410:
        return EXPIRED
    return response.json().get("statut") if response.status_code == 200 else None
