"""Calls and answers of the mock ASP callback checked against `contracts/asp-callback/v1` (openapi-core).

The contract is the only description of a `Retour`: this module never restates it. It turns the
openapi-core errors (schema errors nested in their `__cause__`) into `{emplacement, message}` items, in French.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaError
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.validation.request.exceptions import MissingRequestBodyError
from openapi_core.validation.request.validators import V30RequestBodyValidator
from starlette.requests import Request
from starlette.responses import Response

from harness.foundations.contracts import ASP_CALLBACK_V1, ContractRequest, ContractResponse, openapi
from harness.foundations.problems import Problem

BODY = "corps"
CONTENT_TYPE = "en-tête Content-Type"
EXPECTED_MEDIA_TYPE = "application/json"
JSON_TYPES = {
    "object": "un objet",
    "array": "un tableau",
    "string": "une chaîne",
    "integer": "un entier",
    "number": "un nombre",
    "boolean": "un booléen",
    "null": "null",
}


class ContractDrift(RuntimeError):
    """The mock itself answered off its contract: a bug of the mock, never of the titulaire."""


def contract_request(request: Request, body: bytes | None = None) -> ContractRequest:
    return ContractRequest(
        contract=ASP_CALLBACK_V1,
        method=request.method,
        path=request.url.path,
        query=dict(request.query_params),
        headers=dict(request.headers),
        body=body,
        content_type=request.headers.get("content-type", ""),
    )


def check_return(request: Request, body: bytes) -> Problem | None:
    """The problem to answer when the call breaks the contract (media type, JSON, schema), else None.

    The body validator also matches the method and the path; security (OAuth 2.0) is not checked here.
    """
    checked = contract_request(request, body or None)
    errors = list(V30RequestBodyValidator(openapi(ASP_CALLBACK_V1).spec).iter_errors(checked.for_openapi()))
    return problem_for(errors, checked.content_type, body) if errors else None


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


def describe(errors: Iterable[Exception]) -> list[dict[str, str]]:
    """openapi-core errors as `{emplacement, message}` items, one per schema error when there are some."""
    described: list[dict[str, str]] = []
    for error in errors:
        schema_errors = getattr(error.__cause__, "schema_errors", None)
        if not schema_errors:
            described.append({"emplacement": BODY, "message": str(error.__cause__ or error)})
            continue
        for schema_error in schema_errors:
            described.extend(describe_schema_error(schema_error))
    return described


def describe_schema_error(error: SchemaError) -> list[dict[str, str]]:
    """One jsonschema error in French; a missing or extra property is placed at its own name."""
    where = location(error.absolute_path)
    if error.validator == "required":
        name = _quoted_name(error.message)
        return [{"emplacement": location([*error.absolute_path, name]), "message": "propriété obligatoire absente"}]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        extra = [key for key in error.instance if key not in allowed]
        return [
            {"emplacement": location([*error.absolute_path, key]), "message": "propriété non prévue par le contrat"}
            for key in extra
        ]
    return [{"emplacement": where, "message": schema_message(error)}]


def schema_message(error: SchemaError) -> str:
    """The French message of a jsonschema error (its English one for a keyword not translated here)."""
    value, expected = _shown(error.instance), error.validator_value
    messages = {
        "enum": lambda: f"valeur {value} non autorisée ; valeurs permises : {', '.join(map(str, expected))}",
        "type": lambda: f"{value} n'est pas {JSON_TYPES.get(str(expected), str(expected))}",
        "format": lambda: f"{value} n'est pas au format {expected}",
        "pattern": lambda: f"{value} ne respecte pas le motif {expected}",
        "minimum": lambda: f"{value} est inférieur au minimum ({expected})",
        "maximum": lambda: f"{value} est supérieur au maximum ({expected})",
        "minLength": lambda: f"{value} est trop court (au moins {expected} caractère(s))",
        "maxLength": lambda: f"{value} est trop long (au plus {expected} caractère(s))",
        "minItems": lambda: f"au moins {expected} élément(s) attendu(s)",
    }
    build = messages.get(str(error.validator))
    return build() if build else error.message


def location(path: Iterable[Any]) -> str:
    """`corps.pieces.0.typeDetecte` for the path ['pieces', 0, 'typeDetecte'] of the body."""
    return ".".join([BODY, *(str(part) for part in path)])


def _quoted_name(message: str) -> str:
    match = re.match(r"^'(.*)' is a required property$", message)
    return match.group(1) if match else message


def _shown(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return f"« {text if len(text) <= limit else text[: limit - 1] + '…'} »"


def check_response(request: Request, response: Response) -> None:
    """Raise `ContractDrift` when an answer of POST /v1/retours is not what the contract declares."""
    media_type = response.headers.get("content-type", "").split(";")[0]
    answered = ContractResponse(response.status_code, bytes(response.body), media_type, dict(response.headers))
    errors = list(openapi(ASP_CALLBACK_V1).iter_response_errors(contract_request(request).for_openapi(), answered))
    if errors:
        detail = "; ".join(f"{e['emplacement']} : {e['message']}" for e in describe(errors))
        raise ContractDrift(f"réponse {response.status_code} du mock non conforme au contrat : {detail}")
