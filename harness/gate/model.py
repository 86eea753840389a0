"""One shape for OpenAPI 3.0.x and Swagger 2.0: operations, parameters, bodies, responses, security.

Only the structure around schemas is normalized here; schemas stay as `Node`s of the original documents
(Swagger 2.0 schemas are a subset of 3.0 ones), so the diff follows their `$ref`s lazily. Swagger 2.0
`body`/`formData` parameters become a request body, `produces`/`consumes` become media types and
`host`+`basePath`+`schemes` become server URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.gate.loader import Document, Node, Resolver

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Swagger 2.0 keywords that describe a non-body parameter's value: together they make its schema.
_V2_VALUE_KEYWORDS = (
    "type", "format", "items", "default", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "enum", "multipleOf", "x-nullable",
)  # fmt: skip
_V2_COLLECTION_STYLES = {
    "csv": ("form", False),
    "multi": ("form", True),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "tsv": ("tabDelimited", False),
}
_DEFAULT_STYLES = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}


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
class Body:
    """A request body: required or not, and one schema per media type."""

    required: bool
    content: dict[str, Node]
    node: Node


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
        return self.document.dialect

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
    def v2(self) -> bool:
        return self.document.dialect == "2.0"

    @property
    def root(self) -> Node:
        return self.document.root

    def deref(self, node: Node) -> Node:
        return self.document.resolver.deref(node)

    # --- servers and security schemes -------------------------------------------------------------

    def servers(self) -> list[str]:
        if not self.v2:
            return [_server_url(s.get("url", "")) for s in _items(self.root.child("servers")) if s.get("url")]
        host = self.root.get("host")
        if not host:
            return []
        schemes = self.root.get("schemes") or ["https"]
        return [_server_url(f"{scheme}://{host}{self.root.get('basePath', '')}") for scheme in schemes]

    def security_schemes(self) -> dict[str, SecurityScheme]:
        holder = self.root.child("securityDefinitions") if self.v2 else self.root.child("components")
        schemes = holder if self.v2 else holder.child("securitySchemes")
        found: dict[str, SecurityScheme] = {}
        for name in schemes.value or {}:
            node = self.deref(schemes.child(name))
            fields = _v2_scheme(node.value) if self.v2 else _v3_scheme(node.value)
            found[str(name)] = SecurityScheme(str(name), fields, node)
        return found

    # --- operations -------------------------------------------------------------------------------

    def operations(self) -> dict[tuple[str, str], Operation]:
        found: dict[tuple[str, str], Operation] = {}
        paths = self.root.child("paths")
        for path in paths.value or {}:
            item = self.deref(paths.child(path))
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    operation = self.operation(str(path), method, item, callback=False)
                    found[(template_key(str(path)), method)] = operation
        return found

    def operation(self, path: str, method: str, item: Node, *, callback: bool) -> Operation:
        node = item.child(method)
        security = node.get("security")
        if security is None and not callback:
            security = self.root.get("security")
        own_servers = node.get("servers") or item.get("servers")
        return Operation(
            method=method,
            path=path,
            node=node,
            parameters=self.parameters(path, item, node),
            body=self.v2_body(item, node) if self.v2 else self.v3_body(node),
            responses=self.responses(node),
            security=[dict(r) for r in security] if security else [{}],
            servers=[_server_url(s.get("url", "")) for s in own_servers] if own_servers and not self.v2 else None,
            callbacks={} if self.v2 or callback else self.callbacks(node),
        )

    def _raw_parameters(self, item: Node, node: Node) -> list[Node]:
        merged: dict[tuple[str, str], Node] = {}
        for holder in (item.child("parameters"), node.child("parameters")):
            for index in range(len(holder.value or [])):
                parameter = self.deref(holder.child(index))
                merged[(str(parameter.get("in")), str(parameter.get("name")))] = parameter
        return list(merged.values())

    def parameters(self, path: str, item: Node, node: Node) -> dict[tuple[str, str], Parameter]:
        names = re.findall(r"\{([^}/]*)\}", path)
        found: dict[tuple[str, str], Parameter] = {}
        for raw in self._raw_parameters(item, node):
            location, name = str(raw.get("in")), str(raw.get("name"))
            if location in ("body", "formData"):
                continue
            key = _parameter_key(location, name, names)
            found[key] = Parameter(
                key=key,
                name=name,
                location=location,
                required=bool(raw.get("required", location == "path")),
                schema=self._parameter_schema(raw),
                node=raw,
                serialization=self._serialization(raw, location),
                deprecated=bool(raw.get("deprecated", False)),
            )
        return found

    def _parameter_schema(self, raw: Node) -> Node:
        if not self.v2:
            if raw.get("schema") is None and isinstance(raw.get("content"), dict):
                content = raw.child("content")
                return content.child(next(iter(content.value))).child("schema")
            return raw.child("schema")
        return Node(_v2_value_schema(raw.value), raw.file, raw.pointer)

    def _serialization(self, raw: Node, location: str) -> tuple[str, bool]:
        if self.v2:
            return _V2_COLLECTION_STYLES.get(str(raw.get("collectionFormat", "csv")), ("csv", False))
        style = str(raw.get("style", _DEFAULT_STYLES.get(location, "simple")))
        return style, bool(raw.get("explode", style == "form"))

    # --- bodies and responses ---------------------------------------------------------------------

    def v3_body(self, node: Node) -> Body | None:
        if node.get("requestBody") is None:
            return None
        body = self.deref(node.child("requestBody"))
        return Body(bool(body.get("required", False)), self.content(body), body)

    def content(self, holder: Node) -> dict[str, Node]:
        content = holder.child("content")
        return {_media(m): self.deref(content.child(m)).child("schema") for m in content.value or {}}

    def v2_body(self, item: Node, node: Node) -> Body | None:
        raws = self._raw_parameters(item, node)
        body = next((p for p in raws if p.get("in") == "body"), None)
        form = [p for p in raws if p.get("in") == "formData"]
        media = [_media(m) for m in node.get("consumes") or self.root.get("consumes") or []]
        if body is not None:
            schema = body.child("schema")
            return Body(bool(body.get("required", False)), dict.fromkeys(media or ["application/json"], schema), body)
        if not form:
            return None
        properties = {str(p.get("name")): _v2_value_schema(p.value) for p in form}
        required = [str(p.get("name")) for p in form if p.get("required")]
        schema = Node({"type": "object", "properties": properties, "required": required}, node.file, node.pointer)
        return Body(bool(required), dict.fromkeys(media or ["application/x-www-form-urlencoded"], schema), node)

    def responses(self, node: Node) -> dict[str, Response]:
        responses = node.child("responses")
        found: dict[str, Response] = {}
        for status in responses.value or {}:
            response = self.deref(responses.child(status))
            key = "default" if str(status).lower() == "default" else str(status).upper()
            found[key] = Response(
                status=key,
                description=str(response.get("description", "")),
                headers=self.headers(response),
                content=self._v2_response_content(node, response) if self.v2 else self.content(response),
                node=response,
            )
        return found

    def _v2_response_content(self, node: Node, response: Node) -> dict[str, Node]:
        if response.get("schema") is None:
            return {}
        media = [_media(m) for m in node.get("produces") or self.root.get("produces") or ["application/json"]]
        return dict.fromkeys(media, response.child("schema"))

    def headers(self, response: Node) -> dict[str, Header]:
        headers = response.child("headers")
        found: dict[str, Header] = {}
        for name in headers.value or {}:
            if str(name).lower() == "content-type":
                continue  # OpenAPI: a Content-Type response header is ignored
            header = self.deref(headers.child(name))
            schema = Node(_v2_value_schema(header.value), header.file, header.pointer) if self.v2 else None
            found[str(name).lower()] = Header(
                str(name), bool(header.get("required", False)), schema or header.child("schema"), header
            )
        return found

    # --- callbacks --------------------------------------------------------------------------------

    def callbacks(self, node: Node) -> dict[str, dict[str, dict[str, Operation]]]:
        callbacks = node.child("callbacks")
        found: dict[str, dict[str, dict[str, Operation]]] = {}
        for name in callbacks.value or {}:
            callback = self.deref(callbacks.child(name))
            found[str(name)] = {}
            for expression in callback.value or {}:
                item = self.deref(callback.child(expression))
                found[str(name)][str(expression)] = {
                    method: self.operation(str(expression), method, item, callback=True)
                    for method in METHODS
                    if isinstance(item.get(method), dict)
                }
        return found


def _items(node: Node) -> list[Node]:
    return [node.child(i) for i in range(len(node.value))] if isinstance(node.value, list) else []


def _server_url(url: str) -> str:
    return str(url).rstrip("/") or "/"


def _media(media_type: Any) -> str:
    return str(media_type).replace(" ", "").lower()


def _parameter_key(location: str, name: str, path_names: list[str]) -> tuple[str, str]:
    """Path parameters match by position (a rename is not a new parameter); headers ignore case."""
    if location == "path" and name in path_names:
        return ("path", f"#{path_names.index(name)}")
    return (location, name.lower() if location == "header" else name)


def _v2_value_schema(raw: dict[str, Any]) -> dict[str, Any]:
    """The schema of a Swagger 2.0 non-body parameter or header (its value keywords)."""
    schema = {k: raw[k] for k in _V2_VALUE_KEYWORDS if k in raw}
    if schema.get("type") == "file":
        schema.update(type="string", format="binary")
    return schema


def _v3_scheme(raw: dict[str, Any]) -> dict[str, Any]:
    fields = {k: raw.get(k) for k in ("type", "in", "name", "scheme", "openIdConnectUrl") if raw.get(k) is not None}
    if isinstance(raw.get("flows"), dict):
        fields["flows"] = {
            str(name): {k: flow.get(k) for k in ("tokenUrl", "authorizationUrl") if flow.get(k)}
            | {"scopes": sorted(flow.get("scopes") or {})}
            for name, flow in raw["flows"].items()
        }
    if isinstance(fields.get("scheme"), str):
        fields["scheme"] = fields["scheme"].lower()
    return fields


_V2_FLOWS = {"application": "clientCredentials", "accessCode": "authorizationCode"}


def _v2_scheme(raw: dict[str, Any]) -> dict[str, Any]:
    kind = raw.get("type")
    if kind == "basic":
        return {"type": "http", "scheme": "basic"}
    if kind == "apiKey":
        return {"type": "apiKey", "in": raw.get("in"), "name": raw.get("name")}
    flow = str(raw.get("flow", ""))
    urls = {k: raw.get(k) for k in ("tokenUrl", "authorizationUrl") if raw.get(k)}
    return {"type": kind, "flows": {_V2_FLOWS.get(flow, flow): urls | {"scopes": sorted(raw.get("scopes") or {})}}}
