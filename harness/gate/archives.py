"""The archive exchange's JSON Schemas (contracts/archives), diffed by the OpenAPI engine.

Each schema becomes the one message of a synthetic OpenAPI 3.0.3 operation: the request body when the ASP
writes it (the ASP is the consumer of the titulaire's contract), the response when the titulaire writes it,
so the direction rules are the API's. The exchange's version is `info.version` of `version.yaml`, beside
the schemas: the synthetic document is that file, and the schema is `$ref`'d from it, so places stay true.

Draft 2020-12 keywords OpenAPI 3.0 lacks: `const` is read as a one-value `enum`; `$defs` are reached by
their `$ref`s as they are; `if`/`then`/`else` are compared as a whole (`schemas`' `conditionnel-modifie`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.foundations.document import Document, Input, LoadError, Resolver
from harness.foundations.document.reading import Parsed, read_parsed

VERSION_FILE = "version.yaml"
WRITTEN_BY_ASP = {"manifeste", "demande-retransmission", "acquittement"}
"""Schemas the ASP writes and the titulaire reads (CONVENTION.md); the others are the titulaire's."""
SUFFIX = ".schema.json"


def archive_document(schema: Input) -> Document:
    """The synthetic OpenAPI document of the archive schema `schema` (read from its source)."""
    resolver = Resolver(schema.source)
    version_path = schema.path.parent / VERSION_FILE
    parsed = read_parsed(version_path, resolver.source)
    info = parsed.data.get("info") if isinstance(parsed.data, dict) else None
    if not isinstance(info, dict) or "version" not in info:
        raise LoadError(f"{resolver.source.name(version_path)} : info.version, la version de l'échange, manque")
    text = read_parsed(schema.path, resolver.source)
    resolver.files[schema.path.resolve().as_uri()] = Parsed(text.text, as_openapi_schema(text.data))
    paths = {f"/archives/{_stem(schema.path)}": {"post": _operation(schema.path)}}
    data = {"openapi": "3.0.3", "info": info, "paths": paths}
    resolver.files[version_path.resolve().as_uri()] = Parsed(parsed.text, data)
    return Document(version_path, data, "openapi", resolver)


def as_openapi_schema(value: Any) -> Any:
    """A copy of a draft 2020-12 schema where each `const` is a one-value `enum` (OpenAPI 3.0 has no const)."""
    if isinstance(value, list):
        return [as_openapi_schema(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {key: as_openapi_schema(item) for key, item in value.items() if key != "const"}
    if "const" in value:
        converted["enum"] = [value["const"]]
    return converted


def _operation(path: Path) -> dict[str, Any]:
    """`POST /archives/<name>`: the schema as the request body (ASP-written) or the response (titulaire's)."""
    content = {"application/json": {"schema": {"$ref": path.name}}}
    if _stem(path) in WRITTEN_BY_ASP:
        return {"requestBody": {"required": True, "content": content}, "responses": {"204": {"description": "lu"}}}
    return {"responses": {"200": {"description": "écrit par le titulaire", "content": content}}}


def _stem(path: Path) -> str:
    return path.name.removesuffix(SUFFIX)
