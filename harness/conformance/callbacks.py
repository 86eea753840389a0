"""Callback conformance: the return of every tracked deposit, as the ASP's callback API received it.

A deposit's return conforms when:
- its body is a `Retour` of the titulaire contract's `callbacks` (POST /v1/depots → retour) and of the
  asp-callback contract (the same schema reached both ways, validated by openapi-core);
- it matches its deposit: exactly one return (one idRetour, acknowledged once; a redelivery is identical),
  the same idDepot, every metadata field echoed unchanged, one piece per document with its SHA-256;
- it reached the ASP within the service contract's `delaiMaxRetour` after the 202.
A deposit whose every delivery was refused by a fault armed on the ASP side, and that the titulaire reports
ECHEC (incident opened), has no return by design: it is excused, and says so.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import isodate
from openapi_core.validation.schemas import oas30_write_schema_validators_factory
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from harness.conformance.deposits import DepositLedger, TrackedDeposit
from harness.conformance.returns import acknowledged_returns
from harness.foundations.asp_client import CallbackInspector
from harness.foundations.contracts import ASP_CALLBACK_V1, SERVICE_CONTRACT, TITULAIRE_V1, contract_path, openapi
from harness.foundations.service_contract import load_service_contract

FAILED_STATUS = "ECHEC"
"""StatutDepot of a deposit whose return could not be delivered (incident opened)."""

SCHEMA_TITULAIRE = "retour-conforme-au-contrat-titulaire"
SCHEMA_ASP = "retour-conforme-au-contrat-asp"
SINGLE = "retour-unique"
SAME_DEPOSIT = "idDepot-identique"
METADATA = "metadonnees-identiques"
PIECES = "pieces-concordantes"
DELAY = "delai-de-retour"
RECEIVED = "retour-recu"
RULES = (SCHEMA_TITULAIRE, SCHEMA_ASP, SINGLE, SAME_DEPOSIT, METADATA, PIECES, DELAY, RECEIVED)


@dataclass(frozen=True)
class Defect:
    """One rule a return breaks, and how."""

    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule} : {self.detail}"


@dataclass
class ReturnVerdict:
    """The verdict on one deposit's return."""

    deposit: TrackedDeposit
    defects: list[Defect] = field(default_factory=list)
    excused: str | None = None
    """Why a missing return is not the titulaire's fault, when it is not."""

    @property
    def conforming(self) -> bool:
        return not self.defects

    def rules(self) -> set[str]:
        return {d.rule for d in self.defects}

    def evidence(self) -> str:
        head = f"dépôt {self.deposit.id_depot} ({self.deposit.origin})"
        if self.excused:
            return f"{head} : {self.excused}"
        return f"{head} : " + ("conforme" if self.conforming else " ; ".join(map(str, self.defects)))


def max_return_delay() -> timedelta:
    """`qualiteDeService.delaiMaxRetour` of the service contract (ISO 8601 duration)."""
    document = load_service_contract(contract_path(SERVICE_CONTRACT))
    delay = isodate.parse_duration(document["qualiteDeService"]["delaiMaxRetour"])
    if not isinstance(delay, timedelta):  # P1M and the like have no fixed length
        raise ValueError(f"delaiMaxRetour doit être une durée fixe, pas {delay}")
    return delay


# -- the schema, both ways ---------------------------------------------------------------------------


@functools.cache
def _retour_validators() -> dict[str, Any]:
    """The Retour schema of the titulaire contract's callbacks, and of the asp-callback contract."""
    titulaire = openapi(TITULAIRE_V1).spec
    callbacks = titulaire / "paths" / "/v1/depots" / "post" / "callbacks"
    operations = [item / "post" for _, callback in callbacks.items() for _, item in callback.items()]
    asp = openapi(ASP_CALLBACK_V1).spec
    factory = oas30_write_schema_validators_factory
    return {
        SCHEMA_TITULAIRE: factory.create(titulaire, _json_body(operations[0])),
        SCHEMA_ASP: factory.create(asp, _json_body(asp / "paths" / "/v1/retours" / "post")),
    }


def _json_body(operation: Any) -> Any:
    return operation / "requestBody" / "content" / "application/json" / "schema"


def schema_defects(retour: Any) -> list[Defect]:
    """What makes `retour` leave the Retour schema, per contract (empty when it conforms to both)."""
    defects = []
    for rule, validator in _retour_validators().items():
        try:
            validator.validate(retour)
        except InvalidSchemaValue as error:
            for schema_error in error.schema_errors:
                where = "/".join(str(p) for p in schema_error.absolute_path) or "(racine)"
                defects.append(Defect(rule, f"{where} : {schema_error.message}"))
    return defects


# -- one deposit -------------------------------------------------------------------------------------


def judge(deposit: TrackedDeposit, calls: list[dict[str, Any]], max_delay: timedelta) -> list[Defect]:
    """Every rule the returns received for `deposit` break (empty when there is exactly one, right, in time)."""
    bodies = [c["retour"] for c in calls if c.get("retour") is not None]
    defects = [d for body in _distinct(bodies) for d in schema_defects(body)]
    accepted = acknowledged_returns(calls)
    if not accepted:
        return [*defects, Defect(RECEIVED, f"aucun retour acquitté sur {len(calls)} appel(s) reçu(s)")]
    retour = accepted[0]["retour"]
    defects += _single(bodies, len(accepted))
    if retour.get("idDepot") != deposit.id_depot:
        defects.append(Defect(SAME_DEPOSIT, f"{retour.get('idDepot')!r} au lieu de {deposit.id_depot}"))
    if deposit.sent is not None:
        defects += _metadata(deposit.sent.metadonnees, retour.get("metadonnees"))
        defects += _pieces(deposit.sent.digests, retour.get("pieces"))
    delay = parse_instant(accepted[0]["recuLe"]) - deposit.accepted_at
    if delay > max_delay:
        defects.append(Defect(DELAY, f"retour reçu {delay.total_seconds():.1f} s après le 202 (maximum {max_delay})"))
    return defects


def _distinct(bodies: Iterable[Any]) -> list[Any]:
    distinct: list[Any] = []
    for body in bodies:
        if body not in distinct:
            distinct.append(body)
    return distinct


def _single(bodies: list[Any], acknowledged: int) -> list[Defect]:
    ids = sorted({str(b.get("idRetour")) for b in bodies if isinstance(b, dict)})
    defects = []
    if len(ids) != 1 or acknowledged != 1:
        detail = f"{len(ids)} retour(s) différent(s) ({', '.join(ids)}), {acknowledged} acquitté(s)"
        defects.append(Defect(SINGLE, detail))
    if len(ids) == 1 and len(_distinct(bodies)) > 1:
        defects.append(Defect(SINGLE, f"le retour {ids[0]} a été relivré avec un contenu différent"))
    return defects


def _metadata(sent: dict[str, Any] | None, returned: Any) -> list[Defect]:
    if sent is None:
        return []
    if not isinstance(returned, dict):
        return [Defect(METADATA, "métadonnées absentes du retour")]
    defects = [Defect(METADATA, f"« {k} » absent du retour") for k in sent if k not in returned]
    changed = {k: v for k, v in sent.items() if k in returned and returned[k] != v}
    defects += [Defect(METADATA, f"« {k} » modifié : {returned[k]!r} au lieu de {v!r}") for k, v in changed.items()]
    defects += [Defect(METADATA, f"« {k} » ajouté au retour") for k in returned if k not in sent]
    return defects


def _pieces(digests: list[str], pieces: Any) -> list[Defect]:
    returned = [p.get("empreinte", {}).get("valeur") for p in pieces or [] if isinstance(p, dict)]
    if returned == digests:
        return []
    return [Defect(PIECES, f"empreintes des pièces {returned} au lieu de {digests} (documents déposés)")]


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- every deposit of the run ------------------------------------------------------------------------


@dataclass
class ReturnJudge:
    """Waits for the returns of a ledger's deposits, then judges each one."""

    inspector: CallbackInspector
    state_of: Callable[[str], str | None]
    """The titulaire's StatutDepot of a deposit (to excuse an ECHEC caused by faults armed on the ASP side)."""
    max_delay: timedelta = field(default_factory=max_return_delay)
    settle_seconds: float = 0.5
    """Once every return is in, how long to wait for any extra (second) return."""
    poll_seconds: float = 0.2

    def verdicts(self, ledger: DepositLedger) -> list[ReturnVerdict]:
        deposits = ledger.deposits()
        calls = self._wait(deposits)
        time.sleep(self.settle_seconds)
        calls = self._calls()
        return [self._verdict(d, calls.get(d.id_depot, [])) for d in deposits]

    def _wait(self, deposits: list[TrackedDeposit]) -> dict[str, list[dict[str, Any]]]:
        while True:
            calls = self._calls()
            pending = [d for d in deposits if self._pending(d, calls.get(d.id_depot, []))]
            if not pending:
                return calls
            time.sleep(self.poll_seconds)

    def _pending(self, deposit: TrackedDeposit, calls: list[dict[str, Any]]) -> bool:
        if acknowledged_returns(calls) or datetime.now(UTC) > deposit.accepted_at + self.max_delay:
            return False
        return self._excuse(deposit, calls) is None

    def _verdict(self, deposit: TrackedDeposit, calls: list[dict[str, Any]]) -> ReturnVerdict:
        if not acknowledged_returns(calls) and (excuse := self._excuse(deposit, calls)):
            return ReturnVerdict(deposit, excused=excuse)
        return ReturnVerdict(deposit, judge(deposit, calls, self.max_delay))

    def _excuse(self, deposit: TrackedDeposit, calls: list[dict[str, Any]]) -> str | None:
        if not calls or any(c.get("panne") is None for c in calls):
            return None
        if self.state_of(deposit.id_depot) != FAILED_STATUS:
            return None
        return f"aucun retour : ses {len(calls)} livraison(s) refusée(s) par une panne armée côté ASP, dépôt en ECHEC"

    def _calls(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for call in self.inspector.received():
            grouped.setdefault(str(call.get("idDepot")), []).append(call)
        return grouped
