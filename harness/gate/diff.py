"""The diff engine: everything around the schemas, for OpenAPI 3.0.x and Swagger 2.0 alike.

Operations, parameters, request bodies and media types, responses with their status codes and headers,
security requirements and schemes, servers, and callbacks (compared with the roles swapped: see
`changes`). Schemas are handed to `schemas.SchemaDiff`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness.foundations.document import Node
from harness.gate.changes import REQUEST, Change, Effect, Scope
from harness.gate.model import Api, Body, Header, Operation, Parameter, Response
from harness.gate.schemas import Locator, SchemaDiff, Side, edited

K = TypeVar("K")


def diff_contracts(base: Api, revision: Api) -> list[Change]:
    """The changes from `base` to `revision`, each once, in contract order."""
    differ = _ContractDiff(base, revision)
    differ.run()
    return list(dict.fromkeys(differ.changes))


@dataclass
class _ContractDiff:
    """One comparison; `changes` grows as the contracts are walked in order."""

    base: Api
    revision: Api
    schemas: SchemaDiff = field(init=False)

    def __post_init__(self) -> None:
        locate = Locator((self.base.document.uri, self.revision.document.uri), self.revision.document.folder)
        self.schemas = SchemaDiff(self.base.resolver, self.revision.resolver, locate)

    @property
    def changes(self) -> list[Change]:
        return self.schemas.changes

    def emit(self, base_id: str, effect: Effect, scope: Scope, where: str, text: str, at: Side) -> None:
        """Record a change about the node `at` (of the revision, or of the base for what was removed)."""
        self.schemas.emit(base_id, effect, scope, where, text, directional=False, at=at)

    def run(self) -> None:
        self.info()
        key = "host" if self.revision.dialect == "2.0" else "servers"
        self.servers(self.base.servers, self.revision.servers, f"#/{key}", Side(self.revision.document.root.child(key)))
        self.security_schemes()
        self.operations()

    # --- the contract as a whole ------------------------------------------------------------------

    def info(self) -> None:
        if self.base.dialect != self.revision.dialect:
            text = f"dialecte du contrat : OpenAPI {self.base.dialect} → {self.revision.dialect}"
            self.emit("dialecte-modifie", Effect.INFO, REQUEST, "#/info", text, Side(self.revision.info))
        for key in ("title", "description"):
            if self.base.info.get(key) != self.revision.info.get(key):
                text = edited(key, "du contrat")
                self.emit(
                    "description-modifiee",
                    Effect.INFO,
                    REQUEST,
                    f"#/info/{key}",
                    text,
                    Side(self.revision.info.child(key)),
                )

    def servers(self, old: list[str], new: list[str], where: str, at: Side) -> None:
        for url in old:
            if url not in new:
                text = f"serveur {url} supprimé : les consommateurs qui l'appellent échouent"
                self.emit("serveur-supprime", Effect.BREAKING, REQUEST, where, text, at)
        for url in new:
            if url not in old:
                self.emit("serveur-ajoute", Effect.COMPATIBLE, REQUEST, where, f"serveur {url} ajouté", at)

    def security_schemes(self) -> None:
        old, new = self.base.security_schemes, self.revision.security_schemes
        for name in _common(old, new):
            where, at = f"#{new[name].node.pointer}", Side(new[name].node)
            b, r = old[name].fields, new[name].fields
            changed = [k for k in ("type", "in", "name", "scheme", "openIdConnectUrl") if b.get(k) != r.get(k)]
            if changed:
                text = f"schéma de sécurité « {name} » modifié ({', '.join(changed)})"
                self.emit("schema-securite-modifie", Effect.BREAKING, REQUEST, where, text, at)
            self.oauth_flows(where, at, b.get("flows") or {}, r.get("flows") or {})

    def oauth_flows(self, where: str, at: Side, old: dict[str, dict], new: dict[str, dict]) -> None:
        for flow in old:
            if flow not in new:
                text = f"flux OAuth 2.0 {flow} supprimé"
                self.emit("flux-oauth2-supprime", Effect.BREAKING, REQUEST, where, text, at)
            elif _flow_urls(old[flow]) != _flow_urls(new[flow]):
                text = f"URL du flux OAuth 2.0 {flow} modifiée : les consommateurs obtiennent leurs jetons ailleurs"
                self.emit("flux-oauth2-modifie", Effect.BREAKING, REQUEST, where, text, at)
        for flow in _missing(new, old):
            self.emit("flux-oauth2-ajoute", Effect.COMPATIBLE, REQUEST, where, f"flux OAuth 2.0 {flow} ajouté", at)

    # --- operations -------------------------------------------------------------------------------

    def operations(self) -> None:
        old, new = self.base.operations, self.revision.operations
        for key, operation in old.items():
            if key not in new:
                text = f"opération {operation.label} supprimée"
                self.emit(
                    "operation-supprimee", Effect.TIGHTEN, REQUEST, operation.label, text, Side.of_base(operation.node)
                )
        for key, operation in new.items():
            if key in old:
                self.operation(old[key], operation, operation.label, callback=False)
            else:
                text = f"opération {operation.label} ajoutée"
                self.emit("operation-ajoutee", Effect.LOOSEN, REQUEST, operation.label, text, Side(operation.node))

    def operation(self, old: Operation, new: Operation, label: str, *, callback: bool) -> None:
        self.operation_texts(old, new, label, callback)
        self.parameters(old, new, label, callback)
        self.body(old.body, new.body, label, callback)
        self.responses(old.responses, new.responses, label, callback)
        self.security(old.security, new.security, label, callback, Side(new.node.child("security")))
        if not callback:
            if old.servers is not None or new.servers is not None:
                olds, news = old.servers or self.base.servers, new.servers or self.revision.servers
                self.servers(olds, news, f"{label} servers", Side(new.node.child("servers")))
            self.callbacks(old, new, label)

    def operation_texts(self, old: Operation, new: Operation, label: str, callback: bool) -> None:
        scope = Scope("requete", callback)
        if bool(old.node.get("deprecated")) != bool(new.node.get("deprecated")):
            at = Side(new.node.child("deprecated"))
            if new.node.get("deprecated"):
                self.emit("operation-depreciee", Effect.COMPATIBLE, scope, label, "opération déclarée dépréciée", at)
            else:
                self.emit("operation-plus-depreciee", Effect.INFO, scope, label, "opération n'est plus dépréciée", at)
        if old.node.get("operationId") != new.node.get("operationId"):
            text = f"operationId : {old.node.get('operationId')} → {new.node.get('operationId')}"
            self.emit(
                "identifiant-operation-modifie", Effect.INFO, scope, label, text, Side(new.node.child("operationId"))
            )
        for key in ("summary", "description"):
            if (old.node.get(key) or "") != (new.node.get(key) or ""):
                text = edited(key, "de l'opération")
                self.emit("description-modifiee", Effect.INFO, scope, label, text, Side(new.node.child(key)))

    # --- parameters -------------------------------------------------------------------------------

    def parameters(self, old: Operation, new: Operation, label: str, callback: bool) -> None:
        scope = Scope("requete", callback)
        for key, parameter in old.parameters.items():
            if key not in new.parameters:
                where = f"{label} paramètre {parameter.location} {parameter.name}"
                text = f"paramètre {parameter.location} « {parameter.name} » supprimé"
                self.emit("parametre-supprime", Effect.BREAKING, scope, where, text, Side.of_base(parameter.node))
        for key, parameter in new.parameters.items():
            where, at = f"{label} paramètre {parameter.location} {parameter.name}", Side(parameter.node)
            if key in old.parameters:
                self.parameter(old.parameters[key], parameter, where, scope)
            elif parameter.required:
                text = f"paramètre {parameter.location} requis « {parameter.name} » ajouté"
                self.emit("parametre-requis-ajoute", Effect.TIGHTEN, scope, where, text, at)
            else:
                text = f"paramètre {parameter.location} facultatif « {parameter.name} » ajouté"
                self.emit("parametre-facultatif-ajoute", Effect.COMPATIBLE, scope, where, text, at)

    def parameter(self, old: Parameter, new: Parameter, where: str, scope: Scope) -> None:
        at = Side(new.node)
        if old.location == "path" and old.name != new.name:
            text = f"paramètre de chemin renommé : {old.name} → {new.name} (l'URL ne change pas)"
            self.emit("parametre-chemin-renomme", Effect.INFO, scope, where, text, at)
        if old.required != new.required:
            if new.required:
                text = f"« {new.name} » devient requis"
                self.emit("parametre-devenu-requis", Effect.TIGHTEN, scope, where, text, at)
            else:
                text = f"« {new.name} » n'est plus requis"
                self.emit("parametre-devenu-facultatif", Effect.LOOSEN, scope, where, text, at)
        if old.serialization != new.serialization and self._structured(old, new):
            text = f"sérialisation modifiée : {_style(old.serialization)} → {_style(new.serialization)}"
            self.emit("serialisation-parametre-modifiee", Effect.BREAKING, scope, where, text, at)
        if new.deprecated and not old.deprecated:
            text = f"« {new.name} » déclaré déprécié"
            self.emit("parametre-deprecie", Effect.COMPATIBLE, scope, where, text, at)
        if (old.node.get("description") or "") != (new.node.get("description") or ""):
            text = "description du paramètre modifiée"
            self.emit("description-modifiee", Effect.INFO, scope, where, text, Side(new.node.child("description")))
        self.schemas.compare(old.schema, new.schema, scope, where)

    def _structured(self, old: Parameter, new: Parameter) -> bool:
        """Style and explode only change the wire format of arrays and objects."""
        types = (
            self.base.resolver.resolve(old.schema).get("type"),
            self.revision.resolver.resolve(new.schema).get("type"),
        )
        return any(kind in ("array", "object") for kind in types)

    # --- request bodies ---------------------------------------------------------------------------

    def body(self, old: Body | None, new: Body | None, label: str, callback: bool) -> None:
        scope = Scope("requete", callback)
        where = f"{label} requestBody"
        if old is None and new is None:
            return
        if new is None:
            assert old is not None
            text = "corps de requête supprimé"
            self.emit("corps-requete-supprime", Effect.BREAKING, scope, where, text, Side.of_base(old.node))
        elif old is None:
            at = Side(new.node)
            if new.required:
                text = "corps de requête requis ajouté"
                self.emit("corps-requete-requis-ajoute", Effect.TIGHTEN, scope, where, text, at)
            else:
                text = "corps de requête facultatif ajouté"
                self.emit("corps-requete-ajoute", Effect.COMPATIBLE, scope, where, text, at)
        else:
            if old.required != new.required:
                base_id = "corps-requete-devenu-requis" if new.required else "corps-requete-devenu-facultatif"
                effect = Effect.TIGHTEN if new.required else Effect.LOOSEN
                text = "le corps de requête devient requis" if new.required else "le corps de requête n'est plus requis"
                self.emit(base_id, effect, scope, where, text, Side(new.node))
            self.request_content(old.content, new, where, scope)

    def request_content(self, old: dict[str, Node], new: Body, where: str, scope: Scope) -> None:
        """In a request the writer picks a listed media type: a new one widens, a dropped one narrows."""
        for media in old:
            if media not in new.content:
                text = f"type de média {media} supprimé"
                self.schemas.emit(
                    "type-media-supprime", Effect.TIGHTEN, scope, where, text, at=Side.of_base(old[media])
                )
        for media, schema in new.content.items():
            if media in old:
                self.schemas.compare(old[media], schema, scope, f"{where} {media}")
            else:
                text = f"type de média {media} ajouté"
                self.schemas.emit("type-media-ajoute", Effect.LOOSEN, scope, where, text, at=Side(schema))

    # --- responses --------------------------------------------------------------------------------

    def responses(self, old: dict[str, Response], new: dict[str, Response], label: str, callback: bool) -> None:
        scope = Scope("reponse", callback)
        for status, response in old.items():
            if status in new:
                self.response(response, new[status], f"{label} réponse {status}", scope)
            elif (cover := _covering(new, status)) is not None:
                self.response(response, new[cover], f"{label} réponse {status}→{cover}", scope)
            else:
                text, at = f"code de statut {status} supprimé", Side.of_base(response.node)
                self.emit("code-statut-supprime", Effect.TIGHTEN, scope, f"{label} réponse {status}", text, at)
        for status, response in new.items():
            if status in old:
                continue
            where, at = f"{label} réponse {status}", Side(response.node)
            if (cover := _covering(old, status)) is not None:
                text = f"code de statut {status} détaillé (couvert auparavant par {cover})"
                self.emit("code-statut-detaille", Effect.INFO, scope, where, text, at)
                self.response(old[cover], response, where, scope)
            else:
                self.emit("code-statut-ajoute", Effect.LOOSEN, scope, where, f"code de statut {status} ajouté", at)

    def response(self, old: Response, new: Response, where: str, scope: Scope) -> None:
        if old.description != new.description:
            text, at = "description de la réponse modifiée", Side(new.node.child("description"))
            self.emit("description-modifiee", Effect.INFO, scope, where, text, at)
        self.headers(old.headers, new.headers, where, scope)
        self.response_content(old.content, new.content, where, scope)

    def headers(self, old: dict[str, Header], new: dict[str, Header], where: str, scope: Scope) -> None:
        for key, header in old.items():
            if key not in new:
                text, at = f"en-tête {header.name} supprimé", Side.of_base(header.node)
                self.emit("en-tete-reponse-supprime", Effect.LOOSEN, scope, f"{where} en-tête {header.name}", text, at)
        for key, header in new.items():
            here, at = f"{where} en-tête {header.name}", Side(header.node)
            if key in old:
                self.header(old[key], header, here, scope)
            elif header.required:
                text = f"en-tête requis {header.name} ajouté"
                self.emit("en-tete-reponse-requis-ajoute", Effect.TIGHTEN, scope, here, text, at)
            else:
                self.emit("en-tete-reponse-ajoute", Effect.COMPATIBLE, scope, here, f"en-tête {header.name} ajouté", at)

    def header(self, old: Header, new: Header, where: str, scope: Scope) -> None:
        if old.required != new.required:
            at = Side(new.node)
            if new.required:
                text = f"{new.name} devient requis"
                self.emit("en-tete-reponse-devenu-requis", Effect.TIGHTEN, scope, where, text, at)
            else:
                text = f"{new.name} n'est plus requis"
                self.emit("en-tete-reponse-devenu-facultatif", Effect.LOOSEN, scope, where, text, at)
        self.schemas.compare(old.schema, new.schema, scope, where)

    def response_content(self, old: dict[str, Node], new: dict[str, Node], where: str, scope: Scope) -> None:
        """The reader negotiates a response's media type (Accept): a dropped one breaks, a new one does not."""
        for media in old:
            if media not in new:
                text, at = f"type de média {media} supprimé de la réponse", Side.of_base(old[media])
                self.schemas.emit("type-media-supprime", Effect.BREAKING, scope, where, text, at=at)
        for media, schema in new.items():
            if media in old:
                self.schemas.compare(old[media], schema, scope, f"{where} {media}")
            else:
                text = f"type de média {media} ajouté à la réponse"
                self.schemas.emit("type-media-ajoute", Effect.COMPATIBLE, scope, where, text, at=Side(schema))

    # --- security ---------------------------------------------------------------------------------

    def security(
        self, old: list[dict[str, list[str]]], new: list[dict[str, list[str]]], label: str, callback: bool, at: Side
    ) -> None:
        """Requirements are alternatives (OR) of schemes (AND) with scopes: fewer ways in, or more scopes, narrow."""
        scope, where = Scope("requete", callback), f"{label} sécurité"
        olds, news = _alternatives(old), _alternatives(new)
        for schemes, scopes in olds.items():
            if schemes not in news:
                text = f"exigence de sécurité {_requirement(schemes)} supprimée"
                self.emit("exigence-securite-supprimee", Effect.TIGHTEN, scope, where, text, at)
                continue
            for name in schemes:
                added, removed = news[schemes][name] - scopes[name], scopes[name] - news[schemes][name]
                if added:
                    text = f"portée(s) {', '.join(sorted(added))} désormais exigée(s) pour {name}"
                    self.emit("portee-securite-ajoutee", Effect.TIGHTEN, scope, where, text, at)
                if removed:
                    text = f"portée(s) {', '.join(sorted(removed))} plus exigée(s) pour {name}"
                    self.emit("portee-securite-supprimee", Effect.LOOSEN, scope, where, text, at)
        for schemes in _missing(news, olds):
            text = f"exigence de sécurité {_requirement(schemes)} ajoutée comme alternative"
            self.emit("exigence-securite-ajoutee", Effect.LOOSEN, scope, where, text, at)

    # --- callbacks --------------------------------------------------------------------------------

    def callbacks(self, old: Operation, new: Operation, label: str) -> None:
        """A callback is how the consumer gets its results: adding or removing one breaks it."""
        for name in _missing(old.callbacks, new.callbacks):
            text, at = (
                f"callback « {name} » supprimé : le consommateur ne reçoit plus ces appels",
                Side.of_base(old.node),
            )
            self.emit("callback-supprime", Effect.BREAKING, REQUEST, f"{label} callback {name}", text, at)
        for name in _missing(new.callbacks, old.callbacks):
            text, at = f"callback « {name} » ajouté : le consommateur doit l'implémenter", Side(new.node)
            self.emit("callback-ajoute", Effect.BREAKING, REQUEST, f"{label} callback {name}", text, at)
        for name in _common(old.callbacks, new.callbacks):
            self.callback_operations(
                _flatten(old.callbacks[name]), _flatten(new.callbacks[name]), f"{label} callback {name}"
            )

    def callback_operations(self, old: dict[str, Operation], new: dict[str, Operation], where: str) -> None:
        for key in _missing(old, new):
            text, at = (
                f"opération de callback {key} supprimée : le consommateur ne la reçoit plus",
                Side.of_base(old[key].node),
            )
            self.emit("operation-callback-supprimee", Effect.BREAKING, REQUEST, f"{where} {key}", text, at)
        for key in _missing(new, old):
            text, at = f"opération de callback {key} ajoutée : le consommateur doit l'implémenter", Side(new[key].node)
            self.emit("operation-callback-ajoutee", Effect.BREAKING, REQUEST, f"{where} {key}", text, at)
        for key in _common(old, new):
            self.operation(old[key], new[key], f"{where} {key}", callback=True)


def _covering(responses: dict[str, Response], status: str) -> str | None:
    """The range (`4XX`) or `default` response that covers `status`, if any."""
    if status[:1].isdigit() and f"{status[0]}XX" in responses and status != f"{status[0]}XX":
        return f"{status[0]}XX"
    return "default" if "default" in responses and status != "default" else None


def _flow_urls(flow: dict[str, Any]) -> dict[str, Any]:
    """A flow's endpoints (its scopes catalogue matters only through the requirements)."""
    return {key: value for key, value in flow.items() if key != "scopes"}


def _alternatives(requirements: list[dict[str, list[str]]]) -> dict[frozenset[str], dict[str, set[str]]]:
    return {frozenset(r): {name: set(scopes or []) for name, scopes in r.items()} for r in requirements}


def _requirement(schemes: frozenset[str]) -> str:
    return " + ".join(sorted(schemes)) if schemes else "« accès anonyme »"


def _flatten(callback: dict[str, dict[str, Operation]]) -> dict[str, Operation]:
    return {f"{method.upper()} {expression}": op for expression, ops in callback.items() for method, op in ops.items()}


def _style(serialization: tuple[str, bool]) -> str:
    style, explode = serialization
    return f"{style}{' explode' if explode else ''}"


def _missing(first: dict[K, Any], second: dict[K, Any]) -> list[K]:
    """Keys of `first` absent from `second`, in `first`'s order (reports must be reproducible)."""
    return [key for key in first if key not in second]


def _common(first: dict[K, Any], second: dict[K, Any]) -> list[K]:
    return [key for key in first if key in second]
