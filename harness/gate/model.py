"""One shape for OpenAPI 3.0.x and Swagger 2.0: operations, parameters, bodies, responses, security.

Only the structure around schemas is normalized here, by asking the contract's dialect where each thing is
(`harness.foundations.document.dialects`); schemas stay as `Node`s of the original documents, so the diff
follows their `$ref`s lazily.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.foundations.document import HTTP_METHODS, Body, Dialect, Document, Node, Resolver

__all__ = ["Api", "Body", "Header", "Operation", "Parameter", "Response", "SecurityScheme", "build_api"]


@dataclass
class Parameter:
    """A path, query, header or cookie parameter, with the key that matches it across versions."""

    key: tuple[str, str]
    name: str
    location: str
    required: bool
    schema: Node
    node: Node
    serialization: tuple[str, bool]
    deprecated: bool = False


@dataclass
class Header:
    """A response header."""

    name: str
    required: bool
    schema: Node
    node: Node


@dataclass
class Response:
    """One response of an operation (a status code, a range like `4XX`, or `default`)."""

    status: str
    description: str
    headers: dict[str, Header]
    content: dict[str, Node]
    node: Node


@dataclass
class Operation:
    """One HTTP operation (or one callback operation, whose `path` is the callback URL expression)."""

    method: str
    path: str
    node: Node
    parameters: dict[tuple[str, str], Parameter]
    body: Body | None
    responses: dict[str, Response]
    security: list[dict[str, list[str]]]
    servers: list[str] | None = None
    callbacks: dict[str, dict[str, dict[str, Operation]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass
class SecurityScheme:
    """A security scheme, its 2.0 spelling mapped to 3.0 (`flows` keyed by 3.0 flow names)."""

    name: str
    fields: dict[str, Any]
    node: Node


@dataclass
class Api:
    """A whole contract in the common shape."""

    document: Document
    version: str
    servers: list[str]
    security_schemes: dict[str, SecurityScheme]
    operations: dict[tuple[str, str], Operation]

    @property
    def dialect(self) -> str:
        """`2.0` or `3.0`."""
        return self.document.dialect.name

    @property
    def resolver(self) -> Resolver:
        return self.document.resolver

    @property
    def info(self) -> Node:
        return self.document.root.child("info")


def template_key(path: str) -> str:
    """A path with its parameter names blanked: `/a/{id}` and `/a/{idDepot}` are the same route."""
    return re.sub(r"\{[^}/]*\}", "{}", path)


def build_api(document: Document) -> Api:
    """Normalize a loaded contract."""
    builder = _Builder(document)
    return Api(
        document=document,
        version=str(document.root.child("info").get("version", "")),
        servers=builder.servers(),
        security_schemes=builder.security_schemes(),
        operations=builder.operations(),
    )


@dataclass
class _Builder:
    document: Document

    @property
    def dialect(self) -> Dialect:
        return self.document.dialect

    @property
    def root(self) -> Node:
        return self.document.root

    @property
    def resolver(self) -> Resolver:
        return self.document.resolver

    # --- servers and security schemes -------------------------------------------------------------

    def servers(self) -> list[str]:
        return self.dialect.server_urls(self.root)

    def security_schemes(self) -> dict[str, SecurityScheme]:
        return {
            name: SecurityScheme(name, self.dialect.scheme_fields(node.value), node)
            for name, node in self.document.security_schemes().items()
        }

    # --- operations -------------------------------------------------------------------------------

    def operations(self) -> dict[tuple[str, str], Operation]:
        found: dict[tuple[str, str], Operation] = {}
        paths = self.root.child("paths")
        for path in paths.value or {}:
            item = self.resolver.resolve(paths.child(path))
            for method in HTTP_METHODS:
                if isinstance(item.get(method), dict):
                    operation = self.operation(str(path), method, item, callback=False)
                    found[(template_key(str(path)), method)] = operation
        return found

    def operation(self, path: str, method: str, item: Node, *, callback: bool) -> Operation:
        node = item.child(method)
        security = node.get("security")
        if security is None and not callback:
            security = self.root.get("security")
        return Operation(
            method=method,
            path=path,
            node=node,
            parameters=self.parameters(path, item, node),
            body=self.dialect.request_body(self.resolver, self.root, item, node),
            responses=self.responses(node),
            security=[dict(r) for r in security] if security else [{}],
            servers=self.dialect.operation_servers(item, node),
            callbacks=self.callbacks(node) if self.dialect.has_callbacks and not callback else {},
        )

    def parameters(self, path: str, item: Node, node: Node) -> dict[tuple[str, str], Parameter]:
        names = re.findall(r"\{([^}/]*)\}", path)
        found: dict[tuple[str, str], Parameter] = {}
        for raw in self.dialect.parameters(self.resolver, item, node):
            location, name = str(raw.get("in")), str(raw.get("name"))
            if location in ("body", "formData"):
                continue
            key = _parameter_key(location, name, names)
            found[key] = Parameter(
                key=key,
                name=name,
                location=location,
                required=bool(raw.get("required", location == "path")),
                schema=self.dialect.parameter_schema(raw),
                node=raw,
                serialization=self.dialect.serialization(raw, location),
                deprecated=bool(raw.get("deprecated", False)),
            )
        return found

    # --- responses --------------------------------------------------------------------------------

    def responses(self, node: Node) -> dict[str, Response]:
        responses = node.child("responses")
        found: dict[str, Response] = {}
        for status in responses.value or {}:
            response = self.resolver.resolve(responses.child(status))
            key = "default" if str(status).lower() == "default" else str(status).upper()
            found[key] = Response(
                status=key,
                description=str(response.get("description", "")),
                headers=self.headers(response),
                content=self.dialect.response_content(self.resolver, self.root, node, response),
                node=response,
            )
        return found

    def headers(self, response: Node) -> dict[str, Header]:
        headers = response.child("headers")
        found: dict[str, Header] = {}
        for name in headers.value or {}:
            if str(name).lower() == "content-type":
                continue  # OpenAPI: a Content-Type response header is ignored
            header = self.resolver.resolve(headers.child(name))
            found[str(name).lower()] = Header(
                str(name), bool(header.get("required", False)), self.dialect.header_schema(header), header
            )
        return found

    # --- callbacks --------------------------------------------------------------------------------

    def callbacks(self, node: Node) -> dict[str, dict[str, dict[str, Operation]]]:
        callbacks = node.child("callbacks")
        found: dict[str, dict[str, dict[str, Operation]]] = {}
        for name in callbacks.value or {}:
            callback = self.resolver.resolve(callbacks.child(name))
            found[str(name)] = {}
            for expression in callback.value or {}:
                item = self.resolver.resolve(callback.child(expression))
                found[str(name)][str(expression)] = {
                    method: self.operation(str(expression), method, item, callback=True)
                    for method in HTTP_METHODS
                    if isinstance(item.get(method), dict)
                }
        return found


def _parameter_key(location: str, name: str, path_names: list[str]) -> tuple[str, str]:
    """Path parameters match by position (a rename is not a new parameter); headers ignore case."""
    if location == "path" and name in path_names:
        return ("path", f"#{path_names.index(name)}")
    return (location, name.lower() if location == "header" else name)
