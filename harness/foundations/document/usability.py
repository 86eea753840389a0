"""Whether a contract can be used at all: a dialect the ASP accepts, `$ref`s that resolve, a valid structure.

Lint reports these defects as findings; the gate and the campaign refuse a contract that has one.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.foundations.document.contract import Document, read_contract
from harness.foundations.document.nodes import Node, pointer
from harness.foundations.document.reading import LoadError
from harness.foundations.document.sources import Source

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

Defect = tuple[str, str]
"""Where (a JSON pointer, or `file#pointer`) and what, in French."""

VALIDATORS = {
    "2.0": "OpenAPIV2SpecValidator",
    "3.0": "OpenAPIV30SpecValidator",
    "3.1": "OpenAPIV31SpecValidator",
    "3.2": "OpenAPIV32SpecValidator",
}
"""openapi-spec-validator's class per family, imported only when a structure is checked (a slow import that
the gate, which never checks structure, does without)."""
NOT_OPENAPI = "ce n'est pas un contrat OpenAPI (Swagger 2.0 ou OpenAPI 3.0.x)"
MESSAGE_VERSION_31 = (
    "OpenAPI {value} : l'ASP ne prend pas en charge OpenAPI 3.1 ni les versions suivantes, incompatibles avec 3.0 "
    '(JSON Schema 2020-12, type [..., "null"] au lieu de nullable, webhooks) ; publier le contrat en OpenAPI 3.0.3 '
    "ou en Swagger 2.0 (FastAPI produit du 3.1 : servir un fichier 3.0.3 écrit à la main)."
)
MESSAGE_VERSION_UNKNOWN = (
    'version « {value} » non reconnue : l\'ASP accepte Swagger 2.0 (swagger: "2.0") ou OpenAPI 3.0.x '
    '(openapi: "3.0.3"), écrites comme des chaînes.'
)


def version_defects(document: Document) -> Iterator[Defect]:
    """`swagger: "2.0"` or `openapi: "3.0.x"`; 3.1 and later are refused by the ASP."""
    key = document.dialect.version_key
    value = document.data[key]
    if _supported_version(document.is_swagger2, value):
        return
    if not document.is_swagger2 and re.match(r"(3\.[1-9]|3\.\d{2,}|[4-9]|\d{2,})", str(value)):
        yield pointer(key), MESSAGE_VERSION_31.format(value=value)
    else:
        yield pointer(key), MESSAGE_VERSION_UNKNOWN.format(value=value)


def _supported_version(swagger2: bool, value: Any) -> bool:
    if swagger2:
        return value == "2.0"
    return isinstance(value, str) and re.fullmatch(r"3\.0\.\d+", value) is not None


def reference_defects(document: Document) -> Iterator[Defect]:
    """Every `$ref` reachable from the contract leads somewhere (relative files included), without a loop."""
    for reached in document.walk():
        if reached.broken is not None:
            yield document.location(reached.node) + "/$ref", reached.broken


def structure_defects(document: Document) -> Iterator[Defect]:
    """Structurally valid for its version (openapi-spec-validator, relative `$ref`s read from the file's folder)."""
    validator_name = VALIDATORS.get(document.family or "")
    odd_keys = list(_non_string_keys(document.root))
    if validator_name is None or odd_keys:
        yield from odd_keys
        return
    from referencing.exceptions import Unresolvable

    validator_class = getattr(importlib.import_module("openapi_spec_validator.validation"), validator_name)
    errors = validator_class(document.data, base_uri=document.uri).iter_errors()
    try:
        for error in errors:
            best = _best_error(error)
            yield _existing_pointer(document, best.absolute_path), f"structure invalide : {shorten(best.message)}"
    except (Unresolvable, RecursionError) as error:
        yield "", f"structure non vérifiable : références sans fin ou introuvables ({type(error).__name__})"
    except Exception as error:  # noqa: BLE001 — the validator trusts the shape it reads: a malformed contract can break it
        detail = ": ".join(filter(None, (type(error).__name__, shorten(str(error)))))
        yield "", f"structure non vérifiable : le validateur a échoué ({detail})"


def unusable_contract(path: Path) -> str | None:
    """Why the OpenAPI contract at `path` cannot drive a campaign (3.1, broken, unreadable), or None when it can.

    schemathesis would fuzz a 3.1 contract without a word; the ASP refuses 3.1, so the harness refuses it first.
    The checks run in order, each only when the previous ones found nothing (as lint's stages do).
    """
    try:
        document = read_contract(path)
    except LoadError as error:
        return str(error)
    if document.kind != "openapi":
        return NOT_OPENAPI
    defects = [*version_defects(document), *reference_defects(document)]
    if not defects and document.family is not None:
        defects = list(structure_defects(document))
    return f"{defects[0][0]} : {defects[0][1]}" if defects else None


def read_openapi(path: Path, source: Source | None = None) -> Document:
    """The Swagger 2.0 or OpenAPI 3.0.x contract at `path` (read from `source`); `LoadError` for anything else."""
    document = read_contract(path, source)
    if document.kind != "openapi":
        raise LoadError(f"{document.name} : {NOT_OPENAPI}")
    for _, message in version_defects(document):
        raise LoadError(f"{document.name} : {message}")
    return document


def _non_string_keys(node: Node) -> Iterator[Defect]:
    """Keys YAML read as numbers or booleans (`200:` unquoted): JSON, and OpenAPI, only know string keys."""
    if isinstance(node.value, dict):
        for key in node.value:
            if not isinstance(key, str):
                yield (
                    pointer(*node.tokens, str(key)),
                    f"clé {key!r} non textuelle : l'écrire entre guillemets ('{key}').",
                )
    for _, child in node.children():
        yield from _non_string_keys(child)


def _best_error(error: ValidationError) -> ValidationError:
    """The most telling cause of a oneOf/anyOf failure, ignoring the 'it could have been a $ref' branch."""
    from jsonschema.exceptions import best_match

    causes = [c for c in error.context or [] if not (c.validator == "required" and c.validator_value == ["$ref"])]
    return best_match(causes) or error


def _existing_pointer(document: Document, path: Iterable[Any]) -> str:
    """The pointer of `path` when it exists in the document, else the root (keyword errors are schema-relative)."""
    node: Node | None = document.root
    for token in path:
        node = node.find(str(token)) if node and isinstance(node.value, dict) else _list_item(node, token)
    return node.pointer if node is not None else ""


def _list_item(node: Node | None, token: Any) -> Node | None:
    if node is None or not isinstance(node.value, list) or not isinstance(token, int) or token >= len(node.value):
        return None
    return node.child(token)


def shorten(text: str, limit: int = 300) -> str:
    """`text` on one line, cut at `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
