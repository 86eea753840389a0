"""The one place that knows the dialects: where Swagger 2.0 and OpenAPI 3.0.x keep each thing.

A contract's dialect is chosen once (`dialect_of`); lint and gate ask it where the security schemes, the
servers (or `host`, `basePath` and `schemes`), the request body and the responses' schemas are, and get the
answer in the 3.0 shape. Swagger 2.0 `body`/`formData` parameters become a request body, `produces`/`consumes`
become media types, non-body parameters' and headers' value keywords become a schema. Schemas themselves stay
as they are written (Swagger 2.0 schemas are a subset of 3.0 ones). OpenAPI 3.1 and later are a family of
their own that the ASP refuses (see `usability`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harness.foundations.document.nodes import Node
from harness.foundations.document.references import Resolver

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_CONTAINERS = (("components", "schemas"), ("definitions",))
"""Where named schemas live: OpenAPI 3.x, then Swagger 2.0."""
FAMILY = re.compile(r"(3\.[0-2])\.\d+(-.+)?")
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
_V2_FLOWS = {"application": "clientCredentials", "accessCode": "authorizationCode"}
_DEFAULT_STYLES = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}


def family_of(data: dict[str, Any]) -> str | None:
    """`2.0`, `3.0`, `3.1` or `3.2` when the version is one openapi-spec-validator knows, else None."""
    if "swagger" in data:
        return "2.0" if data["swagger"] == "2.0" else None
    match = FAMILY.fullmatch(str(data.get("openapi", "")))
    return match.group(1) if match else None


@dataclass(frozen=True)
class Body:
    """A request body: required or not, and one schema per media type."""

    required: bool
    content: dict[str, Node]
    node: Node


class _Shared:
    """What both dialects share. Each says where its own things are, in the 3.0 shape: `scheme_fields` (a
    security scheme), `server_urls` and `operation_servers`, `request_body`, `response_content` (a response's
    schema per media type), `parameter_schema`, `header_schema` and `serialization` (style and explode)."""

    name: str
    version_key: str
    servers_key: str
    """The key that says where the API is served: `schemes` (2.0) or `servers` (3.x)."""
    security_schemes_path: tuple[str, ...]
    oauth_types: frozenset[str]
    """The security scheme types that mean OAuth 2.0 or OpenID Connect in this dialect."""
    has_callbacks: bool

    def security_schemes(self, root: Node, resolver: Resolver) -> dict[str, Node]:
        """The declared security schemes by name, resolved."""
        container: Node | None = root
        for key in self.security_schemes_path:
            container = container.find(key) if container is not None else None
        if container is None or not isinstance(container.value, dict):
            return {}
        return {name: resolver.resolve(node) for name, node in container.children()}

    def parameters(self, resolver: Resolver, item: Node, operation: Node) -> list[Node]:
        """The parameters of an operation, resolved: the path item's, overridden by the operation's own."""
        merged: dict[tuple[str, str], Node] = {}
        for holder in (item.child("parameters"), operation.child("parameters")):
            for index in range(len(holder.value or [])):
                parameter = resolver.resolve(holder.child(index))
                merged[(str(parameter.get("in")), str(parameter.get("name")))] = parameter
        return list(merged.values())


class Swagger2(_Shared):
    name = "2.0"
    version_key = "swagger"
    servers_key = "schemes"
    security_schemes_path = ("securityDefinitions",)
    oauth_types = frozenset({"oauth2"})
    has_callbacks = False

    def scheme_fields(self, raw: dict[str, Any]) -> dict[str, Any]:
        kind = raw.get("type")
        if kind == "basic":
            return {"type": "http", "scheme": "basic"}
        if kind == "apiKey":
            return {"type": "apiKey", "in": raw.get("in"), "name": raw.get("name")}
        flow = str(raw.get("flow", ""))
        urls = {k: raw.get(k) for k in ("tokenUrl", "authorizationUrl") if raw.get(k)}
        scopes = {"scopes": sorted(raw.get("scopes") or {})}
        return {"type": kind, "flows": {_V2_FLOWS.get(flow, flow): urls | scopes}}

    def server_urls(self, root: Node) -> list[str]:
        host = root.get("host")
        if not host:
            return []
        schemes = root.get("schemes") or ["https"]
        return [server_url(f"{scheme}://{host}{root.get('basePath', '')}") for scheme in schemes]

    def operation_servers(self, item: Node, operation: Node) -> list[str] | None:
        return None

    def request_body(self, resolver: Resolver, root: Node, item: Node, operation: Node) -> Body | None:
        raws = self.parameters(resolver, item, operation)
        body = next((p for p in raws if p.get("in") == "body"), None)
        form = [p for p in raws if p.get("in") == "formData"]
        media = [media_type(m) for m in operation.get("consumes") or root.get("consumes") or []]
        if body is not None:
            schema = body.child("schema")
            return Body(bool(body.get("required", False)), dict.fromkeys(media or ["application/json"], schema), body)
        if not form:
            return None
        properties = {str(p.get("name")): _value_schema(p.value) for p in form}
        required = [str(p.get("name")) for p in form if p.get("required")]
        schema = Node(
            {"type": "object", "properties": properties, "required": required}, operation.uri, operation.tokens
        )
        return Body(bool(required), dict.fromkeys(media or ["application/x-www-form-urlencoded"], schema), operation)

    def response_content(self, resolver: Resolver, root: Node, operation: Node, response: Node) -> dict[str, Node]:
        if response.get("schema") is None:
            return {}
        media = [media_type(m) for m in operation.get("produces") or root.get("produces") or ["application/json"]]
        return dict.fromkeys(media, response.child("schema"))

    def parameter_schema(self, raw: Node) -> Node:
        return Node(_value_schema(raw.value), raw.uri, raw.tokens)

    def header_schema(self, header: Node) -> Node:
        return Node(_value_schema(header.value), header.uri, header.tokens)

    def serialization(self, raw: Node, location: str) -> tuple[str, bool]:
        return _V2_COLLECTION_STYLES.get(str(raw.get("collectionFormat", "csv")), ("csv", False))


class OpenApi3(_Shared):
    name = "3.0"
    version_key = "openapi"
    servers_key = "servers"
    security_schemes_path = ("components", "securitySchemes")
    oauth_types = frozenset({"oauth2", "openIdConnect"})
    has_callbacks = True

    def scheme_fields(self, raw: dict[str, Any]) -> dict[str, Any]:
        keys = ("type", "in", "name", "scheme", "openIdConnectUrl")
        fields = {k: raw.get(k) for k in keys if raw.get(k) is not None}
        if isinstance(raw.get("flows"), dict):
            fields["flows"] = {
                str(name): {k: flow.get(k) for k in ("tokenUrl", "authorizationUrl") if flow.get(k)}
                | {"scopes": sorted(flow.get("scopes") or {})}
                for name, flow in raw["flows"].items()
            }
        if isinstance(scheme := fields.get("scheme"), str):
            fields["scheme"] = scheme.lower()
        return fields

    def server_urls(self, root: Node) -> list[str]:
        return [server_url(s.get("url", "")) for s in root.child("servers").elements() if s.get("url")]

    def operation_servers(self, item: Node, operation: Node) -> list[str] | None:
        own = operation.get("servers") or item.get("servers")
        return [server_url(s.get("url", "")) for s in own] if own else None

    def request_body(self, resolver: Resolver, root: Node, item: Node, operation: Node) -> Body | None:
        if operation.get("requestBody") is None:
            return None
        body = resolver.resolve(operation.child("requestBody"))
        return Body(bool(body.get("required", False)), self._content(resolver, body), body)

    def response_content(self, resolver: Resolver, root: Node, operation: Node, response: Node) -> dict[str, Node]:
        return self._content(resolver, response)

    def parameter_schema(self, raw: Node) -> Node:
        if raw.get("schema") is None and isinstance(raw.get("content"), dict):
            content = raw.child("content")
            return content.child(next(iter(content.value))).child("schema")
        return raw.child("schema")

    def header_schema(self, header: Node) -> Node:
        return header.child("schema")

    def serialization(self, raw: Node, location: str) -> tuple[str, bool]:
        style = str(raw.get("style", _DEFAULT_STYLES.get(location, "simple")))
        return style, bool(raw.get("explode", style == "form"))

    @staticmethod
    def _content(resolver: Resolver, holder: Node) -> dict[str, Node]:
        content = holder.child("content")
        return {media_type(m): resolver.resolve(content.child(m)).child("schema") for m in content.value or {}}


Dialect = Swagger2 | OpenApi3
SWAGGER2, OPENAPI3 = Swagger2(), OpenApi3()


def dialect_of(data: dict[str, Any]) -> Dialect:
    """Swagger 2.0 when the document says `swagger`, else OpenAPI 3.x."""
    return SWAGGER2 if "swagger" in data else OPENAPI3


def server_url(url: str) -> str:
    """A server URL without its trailing slash (`/` for the root)."""
    return str(url).rstrip("/") or "/"


def media_type(value: Any) -> str:
    """A media type as compared: lowercase, without spaces."""
    return str(value).replace(" ", "").lower()


def _value_schema(raw: dict[str, Any]) -> dict[str, Any]:
    """The schema of a Swagger 2.0 non-body parameter or header (its value keywords)."""
    schema = {k: raw[k] for k in _V2_VALUE_KEYWORDS if k in raw}
    if schema.get("type") == "file":
        schema.update(type="string", format="binary")
    return schema
