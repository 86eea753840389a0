"""The coexistence of two majors on one platform, as the calendar (the platform's) plans it on the run's date.

Judged after the campaign has run on each major (`recette run --versions v1,v2`):
- one store: a deposit made in one major is read in the other, its dossier the same (every ordered pair of
  the majors the calendar serves on the date);
- from its deprecation date, a major's answers carry `Deprecation` (RFC 9745, its date), `Sunset` (RFC 8594,
  its end of life) and `Link`s to its successor and to the migration guide; none before that date;
- after its end of life it answers 410 `version-retiree`.
What the calendar does not require on the date (a major not yet published) is not asked: the check is
skipped with the reason. A run on one major checks that major's live headers against the calendar alone
(`lifecycle_signals`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from itertools import permutations

import httpx

from harness.foundations.asp_client import Document
from harness.foundations.majors import Major
from harness.foundations.target import Target

CAPABILITY = "Coexistence des versions majeures"
PIECE = Document("coexistence.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")
DOSSIER_FIELDS = ("applicationSource", "identifiantDossier", "numeroIteration")


@dataclass(frozen=True)
class CoexistenceCheck:
    """One check of the coexistence: passed, failed, or None when the calendar does not ask it (why in evidence)."""

    name: str
    passed: bool | None
    evidence: str


def judge_coexistence(target: Target, majors: Sequence[Major], day: date) -> list[CoexistenceCheck]:
    """Every check of the coexistence of `majors` on `target` on `day`."""
    published = [m for m in majors if not _unpublished(target, m, day)]
    checks = [_not_asked(f"Version {m.name} servie", target, m, day) for m in majors if m not in published]
    served = [m for m in published if target.not_required(m.number) is None]
    checks += [cross_read(target, made_in, read_in) for made_in, read_in in permutations(served, 2)]
    return checks + [lifecycle_signals(target, major, day) for major in published]


def lifecycle_signals(target: Target, major: Major, day: date) -> CoexistenceCheck:
    """The platform's live answers on `major` against its calendar on `day`: deprecation headers, or 410."""
    deprecated, end = target.calendar.deprecated_on(major.number), target.calendar.end_of(major.number)
    if end is not None and day >= end:
        return retired(target, major, end)
    return deprecation_signals(target, major, deprecated, end, day)


def _unpublished(target: Target, major: Major, day: date) -> bool:
    published = [r.published for r in target.calendar.releases if r.version.major == major.number and r.published]
    return not published or min(published) > day


def _not_asked(name: str, target: Target, major: Major, day: date) -> CoexistenceCheck:
    reason = target.calendar.status_on(major.number, day) or f"version {major.name} non exigée le {day}"
    return CoexistenceCheck(name, None, reason)


def cross_read(target: Target, made_in: Major, read_in: Major) -> CoexistenceCheck:
    """A deposit made in `made_in` is read in `read_in` with the same dossier (one store)."""
    name = f"Un dépôt fait en {made_in.name} se lit en {read_in.name}"
    metadata = {
        "applicationSource": "RECETTE-COEXISTENCE",
        "referenceContrat": "MARCHE-RECETTE",
        "identifiantDossier": f"COEX-{uuid.uuid4().hex[:10].upper()}",
        "numeroIteration": 1,
    }
    with target.asp_client(major=made_in) as client:
        made = client.deposit(metadata, [PIECE])
        if made.status_code != 202:
            return CoexistenceCheck(name, False, f"{_line(made)} : dépôt refusé")
        path = read_in.path(f"/depots/{made.json()['idDepot']}")
        read = client.http.get(path)
    evidence = f"{_line(made)} ; {_line(read)}"
    if read.status_code != 200:
        return CoexistenceCheck(name, False, f"{evidence} : dépôt introuvable dans l'autre version")
    seen = read_in.internal_metadata(read.json().get("metadonnees") or {})
    different = [k for k in DOSSIER_FIELDS if seen.get(k) != metadata[k]]
    detail = f"champs différents : {', '.join(different)}" if different else "même dossier"
    return CoexistenceCheck(name, not different, f"{evidence} : {detail}")


def deprecation_signals(
    target: Target, major: Major, deprecated: date | None, end: date | None, day: date
) -> CoexistenceCheck:
    """On and after `deprecated`, the deprecation headers with the calendar's dates; none before."""
    response = _health(target, major)
    headers = response.headers
    if deprecated is None or day < deprecated:
        name = f"La version {major.name} ne se dit pas dépréciée avant sa date"
        present = [h for h in ("deprecation", "sunset") if h in headers]
        return CoexistenceCheck(name, not present and response.status_code == 200, f"{_line(response)} {present}")
    name = f"La version {major.name}, dépréciée, l'annonce à chaque réponse"
    missing = [h for h, v in _expected_signals(deprecated, end).items() if headers.get(h) != v]
    links = " ".join(headers.get_list("link"))
    missing += [rel for rel in ('rel="successor-version"', 'rel="deprecation"') if rel not in links]
    shown = {h: headers.get(h) for h in ("deprecation", "sunset", "link")}
    return CoexistenceCheck(name, not missing, f"{_line(response)} {shown} ; manquant ou faux : {missing or 'rien'}")


def _expected_signals(deprecated: date, end: date | None) -> dict[str, str]:
    expected = {"deprecation": f"@{int(_midnight(deprecated).timestamp())}"}
    if end is not None:
        expected["sunset"] = format_datetime(_midnight(end), usegmt=True)
    return expected


def retired(target: Target, major: Major, end: date) -> CoexistenceCheck:
    """After its end of life, the major answers 410 `version-retiree`."""
    name = f"Après sa fin de vie ({end}), la version {major.name} répond 410"
    response = _health(target, major)
    code = _problem_code(response)
    gone = response.status_code == 410 and code == "version-retiree"
    return CoexistenceCheck(name, gone, f"{_line(response)} {code}")


def _health(target: Target, major: Major) -> httpx.Response:
    with target.asp_client() as client:
        return client.http.get(major.path("/sante"))


def _problem_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except (ValueError, AttributeError):
        return ""


def _line(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url.path} → {response.status_code}"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)
