"""openapi-core validation errors described for a problem+json `erreurs` list, in French.

Every server of the environment (the reference titulaire, the ASP's callback API) answers a call off its
contract with the same `{emplacement, message}` items: a place in the request (`corps.pieces.0.nom`,
`path.idDepot`) and what is wrong there, in French for every keyword translated here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaError
from openapi_core.validation.request.exceptions import ParameterValidationError

BODY = "corps"
JSON_TYPES = {
    "object": "un objet",
    "array": "un tableau",
    "string": "une chaîne",
    "integer": "un entier",
    "number": "un nombre",
    "boolean": "un booléen",
    "null": "null",
}


def describe(errors: Iterable[Exception]) -> list[dict[str, str]]:
    """openapi-core errors as `{emplacement, message}` items, one per schema error when there are some.

    A parameter's errors are placed at `path.idDepot` (its location and name), a body's at `corps`.
    """
    described: list[dict[str, str]] = []
    for error in errors:
        base = f"{error.location}.{error.name}" if isinstance(error, ParameterValidationError) else BODY
        schema_errors = getattr(error.__cause__, "schema_errors", None)
        if not schema_errors:
            described.append({"emplacement": base, "message": str(error.__cause__ or error)})
            continue
        for schema_error in schema_errors:
            described.extend(describe_schema_error(schema_error, base))
    return described


def describe_schema_error(error: SchemaError, base: str = BODY) -> list[dict[str, str]]:
    """One jsonschema error in French; a missing or extra property is placed at its own name."""
    path = list(error.absolute_path)
    if error.validator == "required":
        name = _quoted_name(error.message)
        return [{"emplacement": location([*path, name], base), "message": "propriété obligatoire absente"}]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        extra = [key for key in error.instance if key not in allowed]
        return [
            {"emplacement": location([*path, key], base), "message": "propriété non prévue par le contrat"}
            for key in extra
        ]
    return [{"emplacement": location(path, base), "message": schema_message(error)}]


def schema_message(error: SchemaError) -> str:
    """The French message of a jsonschema error (its English one for a keyword not translated here)."""
    value, expected = _shown(error.instance), error.validator_value
    allowed: list[Any] = list(expected) if isinstance(expected, list) else []
    messages = {
        "enum": lambda: f"valeur {value} non autorisée ; valeurs permises : {', '.join(map(str, allowed))}",
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


def location(path: Iterable[Any], base: str = BODY) -> str:
    """`corps.pieces.0.typeDetecte` for the path ['pieces', 0, 'typeDetecte'] of the body."""
    return ".".join([base, *(str(part) for part in path)])


def _quoted_name(message: str) -> str:
    match = re.match(r"^'(.*)' is a required property$", message)
    return match.group(1) if match else message


def _shown(value: Any, limit: int = 80) -> str:
    """The value as JSON text, a long one cut with « … » (a string cut before it is escaped: never mid-escape)."""
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= limit:
        return f"« {text} »"
    if isinstance(value, str):
        return f"« {json.dumps(value[: limit - 3], ensure_ascii=False)[:-1]}… »"
    return f"« {text[: limit - 1]}… »"
