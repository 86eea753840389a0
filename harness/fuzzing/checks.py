"""Our checks, run on every fuzzed response next to all of schemathesis' own.

- `erreur_en_problem_json`: every error (4xx, 5xx) is RFC 9457 problem+json with a stable `code`;
- `accuse_reception_complet`: a 202 carries `Location` and the `idDepot` it acknowledges;
- `transaction_dans_la_limite`: request body + response body ≤ the target's transaction limit;
- `donnees_invalides_sans_erreur_serveur`: data outside the contract gets a 4xx, never a 5xx;
- `erreur_sans_fuite`: no error answer shows a stack trace, a file path or a library banner
  (`harness.foundations.leaks`, the security suite's definition of a leak).

Each raises its own `Failure` subclass, whose `checks` names the check (see `check_of`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import unquote

import requests
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import Failure

from harness.foundations.leaks import answer_leaks
from harness.foundations.problems import PROBLEM_MEDIA_TYPE
from harness.fuzzing.caller import body_size, header_text, sent_body

PROBLEM_MEMBERS = ("type", "title", "status", "code")

CheckFunction = Callable[[CheckContext, Response, Case], "bool | None"]


class HarnessFailure(Failure):
    """A failure of one of our checks (its name in `checks`)."""

    checks: ClassVar[tuple[str, ...]] = ()


class NotAProblem(HarnessFailure):
    checks = ("erreur_en_problem_json",)
    kind_title = "Erreur hors RFC 9457"


class IncompleteReceipt(HarnessFailure):
    checks = ("accuse_reception_complet",)
    kind_title = "Accusé de réception incomplet"


class TransactionTooLarge(HarnessFailure):
    checks = ("transaction_dans_la_limite",)
    kind_title = "Transaction au-delà de la limite"


class ServerErrorOnInvalidData(HarnessFailure):
    checks = ("donnees_invalides_sans_erreur_serveur",)
    kind_title = "Erreur serveur sur des données invalides"


class LeakInError(HarnessFailure):
    checks = ("erreur_sans_fuite",)
    kind_title = "Fuite d'information dans une erreur"


def check_of(failure: Failure) -> str:
    """The name of the check that reported `failure` (schemathesis' or ours)."""
    return failure.checks[0] if failure.checks else type(failure).__name__


def header(response: Response, name: str) -> str | None:
    """A response header, whatever its case (schemathesis keeps lists of values)."""
    for key, values in response.headers.items():
        if key.lower() == name.lower() and values:
            return values[0]
    return None


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def erreur_en_problem_json(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx and 5xx is `application/problem+json` with type, title, status (the HTTP one) and a `code`."""
    if response.status_code < 400:
        return None
    media_type = (header(response, "content-type") or "").split(";")[0].strip()
    body = _json(response)
    wrong = []
    if media_type != PROBLEM_MEDIA_TYPE:
        wrong.append(f"type de contenu « {media_type or 'absent'} » au lieu de {PROBLEM_MEDIA_TYPE}")
    if not isinstance(body, dict):
        wrong.append("corps qui n'est pas un objet JSON")
    else:
        wrong += [f"membre « {name} » absent" for name in PROBLEM_MEMBERS if name not in body]
        if not isinstance(body.get("code"), str) or not body.get("code"):
            wrong.append("« code » qui n'est pas une chaîne non vide")
        if "status" in body and body["status"] != response.status_code:
            wrong.append(f"« status » {body['status']!r} différent du statut HTTP {response.status_code}")
    if wrong:
        raise NotAProblem(
            operation=case.operation.label, message=f"Réponse {response.status_code} : " + " ; ".join(wrong)
        )
    return None


def accuse_reception_complet(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A 202 (deposit received, retransmission planned) has `Location` and the `idDepot` it is about."""
    if response.status_code != 202:
        return None
    body = _json(response)
    wrong = []
    if not header(response, "location"):
        wrong.append("en-tête Location absent")
    if not isinstance(body, dict) or not isinstance(body.get("idDepot"), str) or not body["idDepot"]:
        wrong.append("idDepot absent du corps")
    if wrong:
        raise IncompleteReceipt(operation=case.operation.label, message="Réponse 202 : " + " ; ".join(wrong))
    return None


def transaction_limit(limit_bytes: int) -> CheckFunction:
    """The check that request body + response body stay within `limit_bytes`."""

    def transaction_dans_la_limite(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        sent, received = body_size(response.request), len(response.content)
        if sent + received > limit_bytes:
            message = f"{sent} + {received} = {sent + received} octets, au-delà de la limite de {limit_bytes} octets"
            raise TransactionTooLarge(operation=case.operation.label, message=message)
        return None

    return transaction_dans_la_limite


def donnees_invalides_sans_erreur_serveur(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Data the contract forbids is the caller's error (4xx): a 5xx means the titulaire failed on it."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative or response.status_code < 500:
        return None
    raise ServerErrorOnInvalidData(
        operation=case.operation.label,
        message=f"Des données hors contrat ont reçu {response.status_code} : une erreur 4xx était attendue.",
    )


def erreur_sans_fuite(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """No answer shows its internals: neither a stack trace nor a file path in an error body, nor a library
    banner or a revealing header."""
    headers = {key.lower(): values[0] for key, values in response.headers.items() if values}
    body = response.content.decode("utf-8", "replace")
    found = answer_leaks(response.status_code, headers, body, sent_text(response.request))
    if found:
        shown = " ; ".join(f"{leak.kind} dans {leak.where} : « {leak.excerpt} »" for leak in found)
        raise LeakInError(operation=case.operation.label, message=f"Réponse {response.status_code} : {shown}")
    return None


def sent_text(request: requests.PreparedRequest) -> str:
    """The request as text (its URL decoded, its headers, its body): what an answer may echo without leaking."""
    headers = "\n".join(f"{name}: {header_text(value)}" for name, value in request.headers.items())
    return "\n".join((unquote(str(request.url)), headers, sent_body(request).decode("utf-8", "replace")))


def harness_checks(limit_bytes: int) -> list[CheckFunction]:
    """Our checks for a target whose transaction limit is `limit_bytes`."""
    return [
        erreur_en_problem_json,
        accuse_reception_complet,
        transaction_limit(limit_bytes),
        donnees_invalides_sans_erreur_serveur,
        erreur_sans_fuite,
    ]
