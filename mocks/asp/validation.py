"""Calls and answers of the mock ASP callback checked against `contracts/asp-callback/v1` (openapi-core).

The contract is the only description of a `Retour`: this module never restates it. Its answers
describe the openapi-core errors in French (`harness.foundations.contract_errors`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.validation.request.exceptions import MissingRequestBodyError
from openapi_core.validation.request.validators import V30RequestBodyValidator
from starlette.requests import Request
from starlette.responses import Response

from harness.foundations.contract_errors import BODY, describe
from harness.foundations.contracts import ASP_CALLBACK_V1, ContractRequest, ContractResponse, load_yaml, openapi
from harness.foundations.exchange_modes import mode_errors
from harness.foundations.problems import Problem
from mocks.asp.recorder import MAX_DEPTH

CONTENT_TYPE = "en-tête Content-Type"
EXPECTED_MEDIA_TYPE = "application/json"


class ContractDrift(RuntimeError):
    """The mock itself answered off its contract: a bug of the mock, never of the titulaire."""


def check_return(request: Request, body: bytes) -> Problem | None:
    """The problem to answer when the call breaks the contract (media type, JSON, schema), else None.

    The body validator also matches the method and the path; security (OAuth 2.0) is not checked here.
    """
    return _checked(ContractRequest.received(ASP_CALLBACK_V1, request, body or None), body)


def check_return_body(body: bytes) -> Problem | None:
    """`check_return` for a return that came another way than POST (a return archive's `retour.json`): its body
    judged as if it had been posted as JSON to the contract's route."""
    route = next(iter(load_yaml(ASP_CALLBACK_V1)["paths"]))
    return _checked(ContractRequest(ASP_CALLBACK_V1, "POST", route, body=body or None), body)


def _checked(checked: ContractRequest, body: bytes) -> Problem | None:
    errors = list(V30RequestBodyValidator(openapi(ASP_CALLBACK_V1).spec).iter_errors(checked.for_openapi()))
    return problem_for(errors, checked.content_type, body) if errors else mode_problem(body)


def mode_problem(body: bytes) -> Problem | None:
    """The 422 answer to a return that breaks the rules of its `modeEchange` (paper metadata), else None."""
    described = [{"emplacement": f"{BODY}.{where}", "message": what} for where, what in mode_errors(json.loads(body))]
    return Problem("retour-invalide", summary(described), {"erreurs": described}) if described else None


def problem_for(errors: Sequence[Exception], content_type: str, body: bytes) -> Problem:
    """The problem+json answer for openapi-core request errors: 415, 400 or 422 with `erreurs`."""
    causes = [error.__cause__ for error in errors]
    if any(isinstance(cause, MediaTypeNotFound) for cause in causes):
        shown = content_type or "absent"
        message = f"type de média « {shown} » non accepté ; attendu : {EXPECTED_MEDIA_TYPE}"
        return _problem("type-media-non-supporte", "Le retour doit être envoyé en JSON.", CONTENT_TYPE, message)
    if any(isinstance(error, MissingRequestBodyError) for error in errors):
        return _problem("requete-invalide", "Le corps de la requête est absent.", BODY, "corps de requête absent")
    if any(isinstance(cause, MediaTypeDeserializeError) for cause in causes):
        return _problem("requete-invalide", "Le corps n'est pas du JSON lisible.", BODY, unreadable_json(body))
    described = describe(errors)
    return Problem("retour-invalide", summary(described), {"erreurs": described})


def unshowable_problem() -> Problem:
    """The 400 answer to JSON the ASP cannot keep as parsed JSON (it is kept as received, flagged illisible)."""
    message = (
        f"JSON non conservable : imbrication au-delà de {MAX_DEPTH} niveaux, "
        "ou caractère Unicode isolé (demi-codet) qui ne s'écrit pas en UTF-8"
    )
    return _problem("requete-invalide", "Le corps n'est pas du JSON lisible.", BODY, message)


def _problem(code: str, detail: str, where: str, message: str) -> Problem:
    return Problem(code, detail, {"erreurs": [{"emplacement": where, "message": message}]})


def summary(described: list[dict[str, str]]) -> str:
    count = len(described)
    return f"Le retour n'est pas conforme au contrat ({count} erreur{'s' if count > 1 else ''})."


def unreadable_json(body: bytes) -> str:
    """Where the JSON parser stopped, in French."""
    try:
        json.loads(body)
    except UnicodeDecodeError:
        return "JSON illisible : le corps n'est pas encodé en UTF-8"
    except json.JSONDecodeError as error:
        return f"JSON illisible (ligne {error.lineno}, colonne {error.colno})"
    return "JSON illisible"


def check_response(request: Request, response: Response) -> None:
    """Raise `ContractDrift` when an answer of POST /v1/retours is not what the contract declares."""
    answered = ContractResponse.answered(response.status_code, bytes(response.body), response.headers)
    checked = ContractRequest.received(ASP_CALLBACK_V1, request).for_openapi()
    errors = list(openapi(ASP_CALLBACK_V1).iter_response_errors(checked, answered))
    if errors:
        detail = "; ".join(f"{e['emplacement']} : {e['message']}" for e in describe(errors))
        raise ContractDrift(f"réponse {response.status_code} du mock non conforme au contrat : {detail}")
