"""The paper judge: the returns of plis (mode papier) the ASP received, against the service contract and the
plis expected.

On every PAPIER return received (acknowledged or refused): its `idPli` follows the agreed pattern
(`modePapier.motifIdPli`) and names one deposit only; its dates follow reception ≤ digitization ≤
processing ≤ sending; the UID of each of its pieces belongs to no other return. Per pli: exactly one
return (one idRetour, a redelivery identical), acknowledged within `modePapier.delaiMaxRetour` of the pli's
reception. Against the plis expected (posted to the reference, or declared by the recette team): each is
matched to exactly one return — by its `idPli` when known, else by its dossier — which brings the pieces,
types and business data declared; the ones not returned by the deadline are missing, the returns of plis
nobody expected are unexpected.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import isodate

from harness.conformance.returns import Defect, acknowledged_returns, distinct, json_equal
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.foundations.exchange_modes import instant, order_errors, paper_order, paris_day
from harness.foundations.service_contract import load_service_contract

PAPER = "PAPIER"
PATTERN = "idPli-au-motif-convenu"
UNIQUE_ID = "idPli-unique"
ORDER = "dates-du-pli-ordonnees"
UIDS = "uid-des-pieces-uniques"
ONE_PER_PLI = "un-retour-par-pli"
DELAY = "delai-de-retour-papier"
RETURNED = "pli-retourne"
UNEXPECTED = "pli-inattendu"
DECLARED = "pli-conforme-a-la-declaration"
RULES = (PATTERN, UNIQUE_ID, ORDER, UIDS, ONE_PER_PLI, DELAY, RETURNED, UNEXPECTED, DECLARED)


@dataclass(frozen=True)
class PaperTerms:
    """What the platform's service contract fixes for paper (`modePapier`)."""

    max_delay: timedelta
    id_pattern: re.Pattern[str]


def paper_terms(service_contract: Path | None = None) -> PaperTerms | None:
    """`modePapier` of a service contract (by default the ASP's); None when it has none (a reservation)."""
    document = load_service_contract(service_contract or contract_path(SERVICE_CONTRACT))
    section = document.get("modePapier")
    if section is None:
        return None
    delay = isodate.parse_duration(section["delaiMaxRetour"])
    if not isinstance(delay, timedelta):
        raise ValueError(f"modePapier.delaiMaxRetour doit être une durée fixe, pas {delay}")
    return PaperTerms(delay, re.compile(section["motifIdPli"]))


@dataclass(frozen=True)
class ExpectedPli:
    """A pli the ASP expects a return for: posted to the reference (its `idPli` known) or declared as sent."""

    reference: str
    """The recette team's own reference of the envelope (the idPli when posted to the reference)."""
    id_pli: str | None = None
    dossier: str | None = None
    pieces: int | None = None
    types: tuple[str, ...] = ()
    data: dict[str, str] = field(default_factory=dict)
    sent_on: date | None = None
    """The day it was posted (declared): a pli received by the titulaire before cannot be this one."""
    posted_at: datetime | None = None
    """When the harness posted it (its own clock): the delay runs from here; None: from the return's `recuLe`."""


@dataclass(frozen=True)
class PaperVerdict:
    """The defects found, and the mapping of each expected pli to the idPli returned for it (None: missing)."""

    defects: list[Defect]
    mapping: list[tuple[ExpectedPli, str | None]]
    unexpected: list[str]
    late: list[str]

    @property
    def missing(self) -> list[ExpectedPli]:
        return [expected for expected, id_pli in self.mapping if id_pli is None]


def judge_paper(
    calls: Sequence[dict[str, Any]], expected: Iterable[ExpectedPli], terms: PaperTerms | None
) -> PaperVerdict:
    """Every rule the paper returns among `calls` break, and the expected plis matched to them.

    `terms` None (no `modePapier` in the service contract): the pattern and the delay are not judged.
    """
    paper = [c for c in calls if isinstance(c.get("retour"), dict) and c["retour"].get("modeEchange") == PAPER]
    bodies = distinct(c["retour"] for c in paper)
    defects = _formats(bodies, terms) + _uids(bodies) + _one_per_pli(bodies, paper)
    accepted = acknowledged_returns(paper)
    expected = list(expected)
    late = _late(accepted, terms, {e.id_pli: e.posted_at for e in expected if e.id_pli and e.posted_at})
    defects += [Defect(DELAY, detail) for detail in late.values()]
    returns = {c["retour"].get("idPli"): c["retour"] for c in reversed(accepted)}  # the first one of each pli
    mapping, unmatched = _match(expected, returns)
    defects += [Defect(RETURNED, f"{e.reference} : aucun retour reçu") for e, id_pli in mapping if id_pli is None]
    defects += [d for e, id_pli in mapping if id_pli is not None for d in _declared(e, returns[id_pli])]
    defects += [Defect(UNEXPECTED, f"{id_pli} : retour d'un pli qui n'était pas attendu") for id_pli in unmatched]
    return PaperVerdict(defects, mapping, unmatched, list(late))


def _formats(bodies: list[dict[str, Any]], terms: PaperTerms | None) -> list[Defect]:
    defects = []
    for body in bodies:
        id_pli = str(body.get("idPli"))
        if terms is not None and not terms.id_pattern.fullmatch(id_pli):
            defects.append(Defect(PATTERN, f"{id_pli} ne suit pas le motif convenu {terms.id_pattern.pattern}"))
        defects += [Defect(ORDER, f"{id_pli} : {what}") for _, what in order_errors(body, paper_order())]
    deposits: dict[str, set[str]] = defaultdict(set)
    for body in bodies:
        deposits[str(body.get("idPli"))].add(str(body.get("idDepot")))
    repeated = {id_pli: ids for id_pli, ids in deposits.items() if len(ids) > 1}
    defects += [
        Defect(UNIQUE_ID, f"{p} est l'identifiant de {len(ids)} plis différents") for p, ids in repeated.items()
    ]
    return _unique(defects)


def _uids(bodies: list[dict[str, Any]]) -> list[Defect]:
    owners: dict[str, set[str]] = defaultdict(set)
    for body in bodies:
        for piece in body.get("pieces") or []:
            if isinstance(piece, dict):
                owners[str(piece.get("uid"))].add(str(body.get("idPli")))
    shared = {uid: plis for uid, plis in owners.items() if len(plis) > 1}
    return [Defect(UIDS, f"l'uid {uid} est celui de pièces de {', '.join(sorted(p))}") for uid, p in shared.items()]


def _one_per_pli(bodies: list[dict[str, Any]], calls: list[dict[str, Any]]) -> list[Defect]:
    returns: dict[str, set[str]] = defaultdict(set)
    for body in bodies:
        returns[str(body.get("idPli"))].add(str(body.get("idRetour")))
    defects = [
        Defect(ONE_PER_PLI, f"{id_pli} : {len(ids)} retours différents ({', '.join(sorted(ids))})")
        for id_pli, ids in returns.items()
        if len(ids) > 1
    ]
    acks: dict[str, int] = defaultdict(int)
    for call in acknowledged_returns(calls):
        acks[str(call["retour"].get("idPli"))] += 1
    defects += [Defect(ONE_PER_PLI, f"{p} : {n} retours acquittés") for p, n in acks.items() if n > 1]
    return _unique(defects)


def _late(accepted: list[dict[str, Any]], terms: PaperTerms | None, posted: dict[str, datetime]) -> dict[str, str]:
    """The plis acknowledged later than the delay after their posting (else their reception, the return's
    `recuLe`), and how late."""
    late: dict[str, str] = {}
    if terms is None:
        return late
    for call in accepted:
        id_pli = str(call["retour"].get("idPli"))
        received, acknowledged = (
            posted.get(id_pli) or instant(call["retour"].get("recuLe")),
            instant(call.get("recuLe")),
        )
        if received is not None and acknowledged is not None and acknowledged - received > terms.max_delay:
            delay = (acknowledged - received).total_seconds()
            late[id_pli] = f"{id_pli} retourné {delay:.1f} s après sa réception (maximum {terms.max_delay})"
    return late


def _match(
    expected: list[ExpectedPli], returns: dict[Any, dict[str, Any]]
) -> tuple[list[tuple[ExpectedPli, str | None]], list[str]]:
    """Each expected pli with the idPli of its return (by idPli, else by dossier, first come), and the rest."""
    free = dict(returns)
    mapping: list[tuple[ExpectedPli, str | None]] = []
    for pli in expected:
        found = next((p for p, body in free.items() if _is_for(pli, p, body)), None)
        if found is not None:
            del free[found]
        mapping.append((pli, None if found is None else str(found)))
    return mapping, sorted(str(p) for p in free)


def _is_for(pli: ExpectedPli, id_pli: Any, body: dict[str, Any]) -> bool:
    if pli.id_pli is not None:
        return bool(id_pli == pli.id_pli)
    received = instant(body.get("recuLe"))
    if pli.sent_on is not None and received is not None and paris_day(received) < pli.sent_on:
        return False
    return pli.dossier is not None and (body.get("metadonnees") or {}).get("identifiantDossier") == pli.dossier


def _declared(pli: ExpectedPli, body: dict[str, Any]) -> list[Defect]:
    """What the return of `pli` brings other than what was declared (pieces, types, business data)."""
    pieces = [p for p in body.get("pieces") or [] if isinstance(p, dict)]
    where = f"{pli.reference} ({body.get('idPli')})"
    defects = []
    if pli.pieces is not None and len(pieces) != pli.pieces:
        defects.append(Defect(DECLARED, f"{where} : {len(pieces)} pièce(s) au lieu de {pli.pieces}"))
    types = tuple(str(p.get("typeDetecte")) for p in pieces)
    if pli.types and types != pli.types:
        defects.append(Defect(DECLARED, f"{where} : types {', '.join(types)} au lieu de {', '.join(pli.types)}"))
    returned = (body.get("metadonnees") or {}).get("donneesMetier") or {}
    for key, value in pli.data.items():
        if not json_equal(returned.get(key), value):
            defects.append(Defect(DECLARED, f"{where} : « {key} » vaut {returned.get(key)!r} au lieu de {value!r}"))
    return defects


def _unique(defects: list[Defect]) -> list[Defect]:
    return list(dict.fromkeys(defects))
