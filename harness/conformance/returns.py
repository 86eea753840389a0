"""The return judge: what the ASP's callback API received for one deposit, against the contracts and the deposit.

A deposit's return conforms when:
- its body is a `Retour` of the `callbacks` of its major's contract (POST /vN/depots → retour) and of
  the asp-callback contract (the same schema reached both ways, validated by openapi-core), and keeps the
  rules of its `modeEchange` (`x-regles-mode-echange`: the paper metadata, `harness.foundations.exchange_modes`);
- it matches its deposit: exactly one return (one idRetour, acknowledged once; a redelivery is identical),
  the same idDepot, every metadata field echoed (compared as JSON, the contract's defaults applied), one
  piece per document with its SHA-256;
- it reached the ASP within the service contract's `delaiMaxRetour` after the 202;
- it was posted with a valid Bearer token (the ASP refused no call for it with 401/403: OAuth 2.0 both ways).
The scenarios, the `contrat` suite and the harness's tests all judge with `judge`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import isodate
from jsonschema.exceptions import ValidationError
from openapi_core.validation.schemas import oas30_write_schema_validators_factory
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from harness.conformance.deposits import DEPOSIT_ROUTE, TrackedDeposit
from harness.conformance.equality import json_equal, with_defaults
from harness.foundations.contracts import ASP_CALLBACK_V1, SERVICE_CONTRACT, contract_path, openapi
from harness.foundations.exchange_modes import mode_errors
from harness.foundations.majors import CONTRACTS
from harness.foundations.service_contract import load_service_contract

SCHEMA_TITULAIRE = "retour-conforme-au-contrat-titulaire"
SCHEMA_ASP = "retour-conforme-au-contrat-asp"
SINGLE = "retour-unique"
SAME_DEPOSIT = "idDepot-identique"
METADATA = "metadonnees-identiques"
PIECES = "pieces-concordantes"
DELAY = "delai-de-retour"
RECEIVED = "retour-recu"
MODE_RULES = "regles-du-mode-echange"
AUTHENTICATED = "retour-authentifie"
RULES = (
    SCHEMA_TITULAIRE,
    SCHEMA_ASP,
    SINGLE,
    SAME_DEPOSIT,
    METADATA,
    PIECES,
    DELAY,
    RECEIVED,
    MODE_RULES,
    AUTHENTICATED,
)
AUTHENTICATION_REFUSALS = frozenset({"authentification-requise", "jeton-invalide", "droits-insuffisants"})
"""The codes of the ASP callback API's 401/403: a return posted without a valid `retours:ecrire` token."""


@dataclass(frozen=True)
class Defect:
    """One rule a return breaks, and how."""

    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule} : {self.detail}"


def acknowledged_returns(calls: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The returns the ASP acknowledged as new (a redelivery of the same return gets the same acknowledgement)."""
    return [c for c in calls if c.get("idAcquittement") and not c.get("redelivery")]


def judge(deposit: TrackedDeposit, calls: Sequence[dict[str, Any]], max_delay: timedelta | None = None) -> list[Defect]:
    """Every rule the returns received for `deposit` break (empty when there is exactly one, right, in time).

    `max_delay` defaults to the service contract's (`max_return_delay`).
    """
    max_delay = max_return_delay() if max_delay is None else max_delay
    bodies = [c["retour"] for c in calls if c.get("retour") is not None]
    contracts = deposit_contracts(deposit)
    defects = [d for body in distinct(bodies) for d in schema_defects(body, contracts) + mode_defects(body)]
    defects += authentication_defects(calls)
    accepted = acknowledged_returns(calls)
    if not accepted:
        return [*defects, Defect(RECEIVED, f"aucun retour acquitté sur {len(calls)} appel(s) reçu(s)")]
    retour = accepted[0]["retour"]
    defects += _single(bodies, len(accepted))
    if retour.get("idDepot") != deposit.id_depot:
        defects.append(Defect(SAME_DEPOSIT, f"{retour.get('idDepot')!r} au lieu de {deposit.id_depot}"))
    if deposit.sent is not None:
        defects += metadata_defects(deposit.sent.metadonnees, retour.get("metadonnees"), contracts)
        defects += _pieces(deposit.sent.digests, retour.get("pieces"))
    delay = parse_instant(accepted[0]["recuLe"]) - deposit.accepted_at
    if delay > max_delay:
        defects.append(Defect(DELAY, f"retour reçu {delay.total_seconds():.1f} s après le 202 (maximum {max_delay})"))
    return defects


def authentication_defects(calls: Sequence[dict[str, Any]]) -> list[Defect]:
    """The calls the ASP refused for want of a valid Bearer token (OAuth 2.0 on the return direction)."""
    refused = [c for c in calls if AUTHENTICATION_REFUSALS & set(c.get("violations") or ())]
    if not refused:
        return []
    codes = sorted({code for c in refused for code in c["violations"] if code in AUTHENTICATION_REFUSALS})
    return [
        Defect(AUTHENTICATED, f"{len(refused)} appel(s) refusé(s) par l'ASP sans jeton valide ({', '.join(codes)})")
    ]


def max_return_delay(service_contract: Path | None = None) -> timedelta:
    """`qualiteDeService.delaiMaxRetour` of a service contract (ISO 8601 duration); by default the ASP's."""
    document = load_service_contract(service_contract or contract_path(SERVICE_CONTRACT))
    delay = isodate.parse_duration(document["qualiteDeService"]["delaiMaxRetour"])
    if not isinstance(delay, timedelta):  # P1M and the like have no fixed length
        raise ValueError(f"delaiMaxRetour doit être une durée fixe, pas {delay}")
    return delay


# -- the schema, both ways ---------------------------------------------------------------------------


def deposit_contracts(deposit: TrackedDeposit) -> tuple[str, ...]:
    """The titulaire contracts a deposit's return is judged by: its major's; every major's when unknown."""
    return (deposit.major.contract,) if deposit.major else tuple(CONTRACTS.values())


@functools.cache
def _retour_validators(contract: str) -> dict[str, Any]:
    """The Retour schema of the callbacks of `contract` (a titulaire major), and of the asp-callback contract."""
    titulaire = openapi(contract).spec
    deposits = next(item for path, item in (titulaire / "paths").items() if str(path).endswith(DEPOSIT_ROUTE))
    callbacks = deposits / "post" / "callbacks"
    operations = [item / "post" for _, callback in callbacks.items() for _, item in callback.items()]
    asp = openapi(ASP_CALLBACK_V1).spec
    factory = oas30_write_schema_validators_factory
    return {
        SCHEMA_TITULAIRE: factory.create(titulaire, _json_body(operations[0])),
        SCHEMA_ASP: factory.create(asp, _json_body(next(item for _, item in (asp / "paths").items()) / "post")),
    }


def _json_body(operation: Any) -> Any:
    return operation / "requestBody" / "content" / "application/json" / "schema"


def schema_defects(retour: Any, contracts: Iterable[str] = tuple(CONTRACTS.values())) -> list[Defect]:
    """What makes `retour` leave the Retour schema, per contract (empty when it conforms to all)."""
    defects: list[Defect] = []
    validators = [(rule, v) for contract in contracts for rule, v in _retour_validators(contract).items()]
    for rule, validator in validators:
        try:
            validator.validate(retour)
        except InvalidSchemaValue as error:
            for schema_error in error.schema_errors:
                assert isinstance(schema_error, ValidationError)  # openapi-core gathers jsonschema's errors
                where = "/".join(str(p) for p in schema_error.absolute_path) or "(racine)"
                defect = Defect(rule, f"{where} : {schema_error.message}")
                defects += [] if defect in defects else [defect]
    return defects


def mode_defects(retour: Any) -> list[Defect]:
    """What in `retour` breaks the rules of its `modeEchange` (paper fields required, forbidden, ordered)."""
    return [Defect(MODE_RULES, f"{where} : {what}") for where, what in mode_errors(retour)]


# -- faithful to its deposit -------------------------------------------------------------------------


def metadata_defects(
    sent: dict[str, Any] | None, returned: Any, contracts: tuple[str, ...] = tuple(CONTRACTS.values())
) -> list[Defect]:
    """Each field of the deposit's metadata missing, changed or added in the return (defaults applied)."""
    if sent is None:
        return []
    if not isinstance(returned, dict):
        return [Defect(METADATA, "métadonnées absentes du retour")]
    sent, returned = with_defaults(sent, contracts), with_defaults(returned, contracts)
    defects = [Defect(METADATA, f"« {k} » absent du retour") for k in sent if k not in returned]
    changed = {k: v for k, v in sent.items() if k in returned and not json_equal(returned[k], v)}
    defects += [Defect(METADATA, f"« {k} » modifié : {returned[k]!r} au lieu de {v!r}") for k, v in changed.items()]
    defects += [Defect(METADATA, f"« {k} » ajouté au retour") for k in returned if k not in sent]
    return defects


def _pieces(digests: list[str], pieces: Any) -> list[Defect]:
    returned = [p.get("empreinte", {}).get("valeur") for p in pieces or [] if isinstance(p, dict)]
    if returned == digests:
        return []
    return [Defect(PIECES, f"empreintes des pièces {returned} au lieu de {digests} (documents déposés)")]


# -- exactly one ----------------------------------------------------------------------


def distinct(bodies: Iterable[Any]) -> list[Any]:
    """The values of `bodies` once each, in order."""
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
    if len(ids) == 1 and len(distinct(bodies)) > 1:
        defects.append(Defect(SINGLE, f"le retour {ids[0]} a été relivré avec un contenu différent"))
    return defects


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
