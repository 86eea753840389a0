"""The leak check: no error answer exposes a stack trace, a file path or a library banner.

It provokes a few more errors (an unreadable token, an unknown route, a method the route does not allow),
then reads every error body and every `Server`-like header the suite collected, and every error answer
(4xx included) the rest of the campaign received: `ErrorAnswers` is the response hook of the campaign's ASP
clients, and `SecurityTarget.campaign_errors` hands it to the check.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import httpx

from harness.foundations.leaks import answer_leaks
from harness.security.probes import MAX_KEPT_BODY, Exchange, Probes
from harness.security.verdicts import Verdict, failed, passed


@dataclass(frozen=True)
class Leak:
    """What was found, where, and an excerpt."""

    kind: str
    exchange: Exchange
    where: str
    excerpt: str

    def describe(self) -> str:
        answer = f"{self.exchange.summary()} ({self.exchange.description})"
        return f"{self.kind} dans {self.where} de {answer} : « {self.excerpt} »"


class ErrorAnswers:
    """The error answers (status ≥ 400) the campaign's ASP clients received, each examined as it arrives: an
    httpx response hook (`observe`). Counts them and keeps the description of every leak found."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._examined = 0
        self._leaks: list[str] = []

    def observe(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        response.read()
        request = response.request
        exchange = Exchange(
            "réponse reçue pendant la campagne",
            f"{request.method} {request.url.path}",
            response.status_code,
            {name.lower(): value for name, value in response.headers.items()},
            response.content[:MAX_KEPT_BODY].decode("utf-8", "replace"),
        )
        found = [leak.describe() for leak in leaks_of(exchange)]
        with self._lock:
            self._examined += 1
            self._leaks += found

    def findings(self) -> tuple[int, list[str]]:
        with self._lock:
            return self._examined, list(self._leaks)


def check_no_leak(probes: Probes) -> Verdict:
    """Aucune réponse d'erreur ne divulgue d'information interne"""
    provoke_errors(probes)
    answered = [exchange for exchange in probes.journal if exchange.answered]
    errors = [exchange for exchange in answered if (exchange.status or 0) >= 400]
    leaks = [leak.describe() for exchange in answered for leak in leaks_of(exchange)]
    examined, campaign_leaks = probes.target.campaign_errors.findings() if probes.target.campaign_errors else (0, [])
    leaks += campaign_leaks
    if leaks:
        shown = " ; ".join(leaks[:3])
        more = f" (et {len(leaks) - 3} autres)" if len(leaks) > 3 else ""
        return failed(f"{len(leaks)} fuite(s) : {shown}{more}")
    if not errors:
        return failed("aucune réponse d'erreur n'a pu être recueillie : rien à examiner")
    return passed(
        f"{len(errors)} réponses d'erreur et les en-têtes de {len(answered)} réponses examinés, et {examined} "
        "réponses d'erreur reçues pendant la campagne : ni trace d'exécution, ni chemin de fichier, "
        "ni bannière de bibliothèque"
    )


def provoke_errors(probes: Probes) -> None:
    """A few more error answers: an unreadable token, an unknown route, a method the route does not allow."""
    probe = probes.target.probe
    probes.call("jeton illisible", "Bearer pas.un-jeton.lisible")
    unknown = probe.path.rsplit("/", 1)[0] + "/route-inconnue-recette-securite"  # under the major probed
    probes.request("route inconnue", "GET", unknown)
    other_method = "DELETE" if probe.method != "DELETE" else "PATCH"
    probes.request("méthode non permise", other_method, probe.path)


def leaks_of(exchange: Exchange) -> list[Leak]:
    """The leaks of one answer: in its body when it is an error, in its headers always."""
    found = answer_leaks(exchange.status or 0, exchange.headers, exchange.body)
    return [Leak(finding.kind, exchange, finding.where, finding.excerpt) for finding in found]


CHECKS = (check_no_leak,)
