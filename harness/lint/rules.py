"""The ASP's rules for API contracts: one small function each, registered in order in a stage.

A check yields `(location, message)` pairs; its rule gives them a stable id and a severity. Stages run in
order: `PRELIMINARY` (version, references), `STRUCTURE` (openapi-spec-validator), `DESIGN` (the ASP's
conventions, only on a structurally valid contract) and `SERVICE` (the service contract).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urldefrag, urljoin

import jsonschema

from harness.foundations.document import Document, Node, Operation, RefError, pointer
from harness.foundations.document.usability import reference_defects, structure_defects, version_defects
from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.foundations.service_contract import service_contract_defects
from harness.lint.findings import Finding, Severity

Check = Callable[[Document], Iterable[tuple[str, str]]]

PROBLEM_JSON = "application/problem+json"
PROBLEM_MEMBERS = ("type", "title", "status")
# Verbs that do not belong in a path (accents removed): English, then French infinitives.
PATH_VERBS = frozenset(
    {
        *("get", "put", "post", "patch", "delete", "create", "update", "remove", "add", "set", "send", "resend"),
        *("fetch", "retrieve", "list", "find", "make", "do", "execute", "run", "submit", "modify", "insert", "save"),
        *("compute", "cancel", "validate", "retry"),
        *("obtenir", "recuperer", "lire", "lister", "creer", "ajouter", "modifier", "mettre", "supprimer"),
        *("effacer", "envoyer", "renvoyer", "transmettre", "retransmettre", "deposer", "consulter", "chercher"),
        *("rechercher", "valider", "annuler", "telecharger", "calculer", "traiter", "executer", "soumettre"),
        *("enregistrer", "generer", "verifier", "controler", "publier", "acquitter"),
    }
)
MUTUAL_TLS = re.compile(
    r"tls\s+mutuel|mutual\s*tls|\bmtls\b|authentification\s+mutuelle|two[- ]way\s+(ssl|tls)|\bvpn\b", re.IGNORECASE
)
LIMIT_MENTION = re.compile(
    r"limite\s+de\s+transaction|transaction\s+size|size\s+limit|\b413\b|20\s?000\s?000\s+octets|\b20\s?(mo|mb)\b",
    re.IGNORECASE,
)
KEBAB_SEGMENT = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
CAMEL_CASE = re.compile(r"[a-z][a-zA-Z0-9]*")
ID_PARAMETER = re.compile(r"id[A-Z][A-Za-z0-9]*")
VERSION_SEGMENT = re.compile(r"v\d+(\.\d+)*")
TEMPLATE = re.compile(r"\{([^}]*)\}")
CONSTRAINT_BRANCHES = frozenset({"anyOf", "oneOf", "not"})
COMPONENT_CONTAINERS = (
    *(("components", kind) for kind in ("schemas", "responses", "parameters", "requestBodies", "headers")),
    ("definitions",),
    ("parameters",),
    ("responses",),
)
"""Where reusable components live (OpenAPI 3.0, then Swagger 2.0); security schemes are used by name, not `$ref`."""


# --- Messages (French: they are read by ASP recette teams and vendors) -------------------------------

MESSAGE_SWAGGER2 = (
    "Swagger 2.0 : toutes les règles sont appliquées, adaptées à 2.0 (HTTPS par schemes, OAuth 2.0 par "
    "securityDefinitions — 2.0 n'a pas OpenID Connect —, problem+json par produces et le schema de la réponse). "
    "La suite contrat le fuzze (schemathesis lit 2.0 et valide les réponses). Non vérifié : les callbacks, "
    "absents de 2.0 (les retours sont jugés sur les contrats de l'ASP), et la validation par openapi-core, "
    "qui ne lit pas 2.0."
)
MESSAGE_MUTUAL_TLS = (
    "le TLS mutuel (ou le VPN) n'est pas documenté : le dire dans info.description ou dans la description d'un "
    "schéma de sécurité (OpenAPI 3.0 n'a pas de type pour le TLS mutuel)."
)
MESSAGE_EMPTY_SECURITY = (
    "{operation} : « security: [] » retire toute authentification ; l'ASP exige OAuth 2.0 / OIDC sur chaque appel."
)
MESSAGE_VERB = (
    "segment « {segment} » : verbe « {verb} » dans le chemin ; la méthode HTTP porte l'action, le chemin nomme une "
    "ressource (une action devient une sous-ressource nominale, ex. /retransmissions)."
)
MESSAGE_ID_RENAMED = (
    "« {parameter} » désigne un élément de « {collection} », nommé {{{first}}} ailleurs : garder le même nom "
    "d'identifiant dans tout le contrat."
)
MESSAGE_LIMIT = (
    "la limite de transaction (20 000 000 octets) n'est pas documentée : ajouter info.x-limite-transaction-octets, "
    "une réponse 413 ou une mention dans une description."
)
MESSAGE_LIMIT_VALUE = (
    "x-limite-transaction-octets vaut {value!r} : attendu un entier d'octets entre 1 et {limit} (limite de l'ASP)."
)


ASP = "spécification des échanges de l'ASP"
OPENAPI = "spécification OpenAPI (Swagger 2.0, OpenAPI 3.0.x)"
DINUM = "« Doctrine des API » de la DINUM"
MINISTRIES = "règles API des ministères"
RFC9457 = "RFC 9457 (problem details)"
HYGIENE = "hygiène OpenAPI courante (règles recommandées de Spectral et Redocly)"
LEVELS = {"error": "doit", "warning": "devrait", "info": "information"}
"""The strength of a rule, from its default severity: a `doit` is an error, a `devrait` a warning."""


@dataclass(frozen=True)
class Rule:
    """A rule of the linter: a stable id, a default severity, its source, and the check that finds where it is
    broken. An `optional` rule runs only when a team's configuration turns it on."""

    id: str
    severity: Severity
    source: str
    summary: str
    """What the rule asks, in one French sentence (shown by `recette lint --rules` and in SARIF)."""
    check: Check
    optional: bool = False

    @property
    def level(self) -> str:
        """doit, devrait or information."""
        return LEVELS[self.severity]

    def run(self, contract: Document) -> list[Finding]:
        return [
            Finding(self.id, self.severity, where, message, contract.place_of(where))
            for where, message in self.check(contract)
        ]


PRELIMINARY: list[Rule] = []
STRUCTURE: list[Rule] = []
DESIGN: list[Rule] = []
SERVICE: list[Rule] = []
JSON_SCHEMA: list[Rule] = []
# An error from these rules stops the later stages: they would read a contract they cannot trust.
BLOCKING = frozenset({"references-resolues", "structure-valide"})


def rule(
    stage: list[Rule], rule_id: str, severity: Severity, source: str, summary: str, *, optional: bool = False
) -> Callable[[Check], Check]:
    """Register a check in `stage` under `rule_id`."""

    def register(check: Check) -> Check:
        stage.append(Rule(rule_id, severity, source, summary, check, optional))
        return check

    return register


# --- Preliminary: version and references -----------------------------------------------------------


@rule(
    PRELIMINARY,
    "version-openapi",
    "error",
    ASP,
    "Le contrat est en Swagger 2.0 ou OpenAPI 3.0.x ; l'ASP refuse OpenAPI 3.1 et suivantes.",
)
def openapi_version(contract: Document) -> Iterator[tuple[str, str]]:
    """`swagger: "2.0"` or `openapi: "3.0.x"`; 3.1 and later are refused by the ASP."""
    return version_defects(contract)


@rule(
    PRELIMINARY,
    "references-resolues",
    "error",
    OPENAPI,
    "Chaque $ref mène quelque part (fichiers relatifs compris), sans boucle.",
)
def resolved_references(contract: Document) -> Iterator[tuple[str, str]]:
    """Every `$ref` reachable from the contract leads somewhere (relative files included), without a loop."""
    return reference_defects(contract)


# --- Structure --------------------------------------------------------------------------------------


@rule(
    STRUCTURE, "structure-valide", "error", OPENAPI, "La structure est valide pour sa version (openapi-spec-validator)."
)
def valid_structure(contract: Document) -> Iterator[tuple[str, str]]:
    """Structurally valid for its version (openapi-spec-validator, relative `$ref`s read from the file's folder)."""
    return structure_defects(contract)


# --- Design rules -----------------------------------------------------------------------------------


@rule(
    DESIGN,
    "swagger2-perimetre",
    "info",
    ASP,
    "Ce qu'un contrat Swagger 2.0 reçoit de vérifications, et ce qu'il ne reçoit pas.",
)
def swagger2_scope(contract: Document) -> Iterator[tuple[str, str]]:
    """Say plainly what a Swagger 2.0 contract gets and what it does not."""
    if contract.is_swagger2:
        yield "/swagger", MESSAGE_SWAGGER2


@rule(DESIGN, "serveurs-https", "error", ASP, "Les serveurs (3.x) ou schemes (2.0) sont en HTTPS seulement.")
def https_servers(contract: Document) -> Iterator[tuple[str, str]]:
    """Servers (3.x) or schemes (2.0) are HTTPS only."""
    if contract.is_swagger2:
        for schemes in _scheme_lists(contract):
            for _, scheme in schemes.children():
                if scheme.value != "https":
                    yield contract.location(scheme), f"schéma « {scheme.value} » refusé : l'ASP n'accepte que HTTPS."
        return
    for server in _servers(contract):
        bad = sorted({u for u in _expanded_urls(server) if _scheme(u) not in ("", "https")})
        if bad:
            where = contract.location(server.find("url") or server)
            yield where, f"serveur non HTTPS ({', '.join(bad)}) : l'ASP n'accepte que HTTPS."


@rule(DESIGN, "serveurs-declares", "warning", ASP, "Le contrat dit où l'API est servie (servers, ou schemes en 2.0).")
def declared_servers(contract: Document) -> Iterator[tuple[str, str]]:
    """The contract says where it is served (`servers`, or `schemes` in 2.0), so HTTPS can be checked."""
    key = contract.dialect.servers_key
    if not contract.data.get(key):
        yield pointer(key), f"aucun « {key} » déclaré : le contrat ne dit pas que l'API est servie en HTTPS."


@rule(
    DESIGN, "securite-schemas", "error", ASP, "Au moins un schéma de sécurité OAuth 2.0 ou OpenID Connect est déclaré."
)
def security_schemes(contract: Document) -> Iterator[tuple[str, str]]:
    """At least one OAuth 2.0 or OpenID Connect security scheme is declared."""
    accepted = contract.dialect.oauth_types
    if not any(_scheme_type(node) in accepted for node in contract.security_schemes().values()):
        yield (
            pointer(*contract.dialect.security_schemes_path),
            "aucun schéma de sécurité OAuth 2.0 ou OpenID Connect déclaré : l'ASP exige OIDC / OAuth 2.0.",
        )


@rule(
    DESIGN,
    "securite-operations",
    "error",
    ASP,
    "Chaque opération exige OAuth 2.0 / OIDC ; « security: [] » est refusé.",
)
def secured_operations(contract: Document) -> Iterator[tuple[str, str]]:
    """Every operation requires OAuth 2.0 / OIDC, globally or on its own; `security: []` is refused."""
    reported: set[str] = set()
    for operation in contract.operations():
        for where, message in _security_defects(contract, operation):
            if where not in reported:
                reported.add(where)
                yield where, message


@rule(DESIGN, "securite-tls-mutuel", "warning", ASP, "Le TLS mutuel (ou le VPN) est documenté dans une description.")
def mutual_tls(contract: Document) -> Iterator[tuple[str, str]]:
    """Mutual TLS (or a VPN) is documented: 3.0 has no scheme type for it, so a description must say it."""
    info = contract.root.find("info")
    schemes = contract.security_schemes().values()
    texts = [info.text("description") if info else "", *(node.text("description") for node in schemes)]
    if not any(MUTUAL_TLS.search(text) for text in texts) and all(_scheme_type(n) != "mutualTLS" for n in schemes):
        yield "/info", MESSAGE_MUTUAL_TLS


@rule(DESIGN, "operation-identifiant", "error", MINISTRIES, "Chaque opération (rappels compris) a un operationId.")
def operation_ids(contract: Document) -> Iterator[tuple[str, str]]:
    """Every operation (callbacks included) has an operationId."""
    for operation in contract.operations(callbacks=True):
        if not operation.node.text("operationId"):
            yield contract.location(operation.node), f"{_label(operation)} sans operationId."


@rule(DESIGN, "operation-resume", "warning", MINISTRIES, "Chaque opération (rappels compris) a un résumé (summary).")
def operation_summaries(contract: Document) -> Iterator[tuple[str, str]]:
    """Every operation (callbacks included) has a summary."""
    for operation in contract.operations(callbacks=True):
        if not operation.node.text("summary"):
            yield contract.location(operation.node), f"{_label(operation)} sans summary (résumé)."


@rule(
    DESIGN, "erreurs-documentees", "error", ASP, "Chaque opération documente ses erreurs client (4xx) et serveur (5xx)."
)
def documented_errors(contract: Document) -> Iterator[tuple[str, str]]:
    """Every operation documents its client (4xx) and server (5xx) errors; `default` counts for both."""
    for operation in contract.operations():
        codes = [code for code, _ in _responses(operation)]
        where = contract.location(operation.node.find("responses") or operation.node)
        for family, kind in (("4", "client"), ("5", "serveur")):
            if not any(code.startswith(family) or code == "default" for code in codes):
                yield where, f"{_label(operation)} : aucune réponse {family}xx (erreur {kind}) documentée."


@rule(
    DESIGN,
    "erreurs-problem-json",
    "error",
    RFC9457,
    "Chaque réponse 4xx, 5xx et default est un application/problem+json avec type, title et status.",
)
def problem_details(contract: Document) -> Iterator[tuple[str, str]]:
    """Every 4xx, 5xx and default response is `application/problem+json` with type, title and status."""
    for operation in contract.operations():
        for code, raw in _responses(operation):
            if code[0] in "45" or code == "default":
                defect = _problem_defect(contract, operation, contract.resolve(raw))
                if defect:
                    yield contract.location(raw), f"réponse {code} : {defect}"


@rule(
    DESIGN,
    "chemins-kebab-case",
    "error",
    DINUM,
    "Les segments de chemin sont en minuscules kebab-case, sans « / » final.",
)
def kebab_case_paths(contract: Document) -> Iterator[tuple[str, str]]:
    """Path segments are lowercase kebab-case (`/depots-complementaires`), without a trailing slash."""
    for template in _templates(contract):
        if template != "/" and template.endswith("/"):
            yield pointer("paths", template), "chemin terminé par « / » : retirer la barre oblique finale."
        for segment in template.split("/")[1:]:
            literal = TEMPLATE.sub("", segment)
            ok = KEBAB_SEGMENT.fullmatch(segment) if literal == segment else re.fullmatch(r"[a-z0-9.-]*", literal)
            if segment and not ok:
                yield pointer("paths", template), f"segment « {segment} » : chemins en minuscules kebab-case."


@rule(DESIGN, "chemins-verbes", "error", DINUM, "Pas de verbe dans un chemin : la méthode HTTP porte l'action.")
def verbs_in_paths(contract: Document) -> Iterator[tuple[str, str]]:
    """No verb in a path: a resource is a noun, an action is a noun sub-resource (`/retransmissions`)."""
    for template in _templates(contract):
        for segment in _literal_segments(template):
            verbs = [word for word in _words(segment) if word in PATH_VERBS]
            if verbs:
                yield pointer("paths", template), MESSAGE_VERB.format(segment=segment, verb=verbs[0])


@rule(DESIGN, "chemins-pluriel", "warning", DINUM, "Une collection suivie d'un {id} est nommée au pluriel.")
def plural_collections(contract: Document) -> Iterator[tuple[str, str]]:
    """A collection followed by an `{id}` is a plural noun (heuristic: it ends in s or x)."""
    for template in _templates(contract):
        segments = template.split("/")[1:]
        for segment, following in itertools.pairwise(segments):
            if _is_collection(segment, following) and not segment.endswith(("s", "x")):
                message = f"segment « {segment} » suivi d'un identifiant : nommer la collection au pluriel."
                yield pointer("paths", template), message


@rule(
    DESIGN,
    "parametres-identifiants",
    "error",
    MINISTRIES,
    "Les identifiants de chemin sont nommés idXxx, un même nom par collection.",
)
def id_parameters(contract: Document) -> Iterator[tuple[str, str]]:
    """Identifier path parameters are named `idXxx`, and one collection keeps one parameter name."""
    names_by_collection: dict[str, str] = {}
    for template in _templates(contract):
        segments = template.split("/")[1:]
        for name in TEMPLATE.findall(template):
            if _looks_like_id(name) and not ID_PARAMETER.fullmatch(name):
                yield pointer("paths", template), f"paramètre « {name} » : nommer les identifiants idXxx (ex. idDepot)."
        for segment, following in itertools.pairwise(segments):
            if _is_collection(segment, following):
                first = names_by_collection.setdefault(segment, following[1:-1])
                if first != following[1:-1]:
                    message = MESSAGE_ID_RENAMED.format(parameter=following, collection=segment, first=first)
                    yield pointer("paths", template), message


@rule(DESIGN, "proprietes-camel-case", "error", MINISTRIES, "Les propriétés des schémas sont en camelCase.")
def camel_case_properties(contract: Document) -> Iterator[tuple[str, str]]:
    """Schema properties are camelCase (`identifiantDossier`)."""
    for schema in contract.schemas():
        for name, prop in _properties(schema):
            if not CAMEL_CASE.fullmatch(name):
                yield contract.location(prop), f"propriété « {name} » : écrire les propriétés en camelCase."


@rule(DESIGN, "modeles-descriptions", "warning", ASP, "Les schémas nommés et leurs propriétés ont une description.")
def described_models(contract: Document) -> Iterator[tuple[str, str]]:
    """Named schemas and their properties carry a description (a `$ref` property takes its target's).

    Properties inside an anyOf/oneOf/not branch are constraints on properties described elsewhere: exempt.
    """
    for schema in contract.schemas():
        if _is_named(schema) and not schema.text("description"):
            yield contract.location(schema), f"schéma « {schema.tokens[-1]} » sans description."
        if CONSTRAINT_BRANCHES & set(schema.tokens):
            continue
        for name, prop in _properties(schema):
            if isinstance(prop.value, dict) and "$ref" not in prop.value and not prop.text("description"):
                yield contract.location(prop), f"propriété « {name} » sans description."


@rule(DESIGN, "asynchrone-location", "warning", ASP, "Une réponse 202 donne l'URL de suivi dans un en-tête Location.")
def async_location(contract: Document) -> Iterator[tuple[str, str]]:
    """A 202 (accepted, processed later) tells where to follow the work: a `Location` header."""
    for operation in contract.operations():
        for code, raw in _responses(operation):
            headers = contract.resolve(raw).find("headers") if code == "202" else None
            names = {name.lower() for name, _ in headers.children()} if headers else set()
            if code == "202" and "location" not in names:
                yield contract.location(raw), f"{_label(operation)} : réponse 202 sans en-tête Location (URL de suivi)."


@rule(DESIGN, "limite-transaction", "warning", ASP, "La limite de transaction de 20 Mo est documentée.")
def transaction_limit(contract: Document) -> Iterator[tuple[str, str]]:
    """The 20 MB transaction limit is documented: `x-limite-transaction-octets`, a 413, or a description."""
    info = contract.root.find("info")
    if info and info.find("x-limite-transaction-octets"):
        return
    if any(code == "413" for operation in contract.operations() for code, _ in _responses(operation)):
        return
    if any(LIMIT_MENTION.search(text) for text in _descriptions(contract)):
        return
    yield "/info", MESSAGE_LIMIT


@rule(
    DESIGN,
    "limite-transaction-valeur",
    "error",
    ASP,
    "x-limite-transaction-octets est un nombre d'octets entre 1 et la limite de l'ASP.",
)
def transaction_limit_value(contract: Document) -> Iterator[tuple[str, str]]:
    """`x-limite-transaction-octets`, when given, is a whole number of bytes within the ASP's 20 MB."""
    info = contract.root.find("info")
    limit = info.find("x-limite-transaction-octets") if info else None
    if limit is None:
        return
    value = limit.value
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= TRANSACTION_LIMIT_BYTES:
        yield limit.pointer, MESSAGE_LIMIT_VALUE.format(value=value, limit=TRANSACTION_LIMIT_BYTES)


# --- Hygiene (optional: a team's configuration turns them on) ---------------------------------------


@rule(DESIGN, "info-licence", "warning", HYGIENE, "Le contrat nomme sa licence (info.license).", optional=True)
def info_license(contract: Document) -> Iterator[tuple[str, str]]:
    """The contract names its licence (`info.license`): what may be done with the API and its description."""
    info = contract.root.find("info")
    license_node = info.find("license") if info else None
    if license_node is None or not license_node.text("name"):
        yield "/info", "aucune licence (info.license.name) : dire ce qui peut être fait de l'API et de son contrat."


@rule(
    DESIGN,
    "info-contact",
    "warning",
    HYGIENE,
    "Le contrat donne un contact (info.contact, courriel ou URL).",
    optional=True,
)
def info_contact(contract: Document) -> Iterator[tuple[str, str]]:
    """The contract gives a contact (`info.contact` with an email or a URL)."""
    info = contract.root.find("info")
    contact = info.find("contact") if info else None
    if contact is None or not (contact.text("email") or contact.text("url")):
        yield "/info", "aucun contact (info.contact.email ou url) : à qui s'adresser pour cette API."


@rule(
    DESIGN,
    "operation-description",
    "warning",
    HYGIENE,
    "Chaque opération (rappels compris) a une description.",
    optional=True,
)
def operation_descriptions(contract: Document) -> Iterator[tuple[str, str]]:
    """Every operation (callbacks included) has a description, beyond its summary."""
    for operation in contract.operations(callbacks=True):
        if not operation.node.text("description"):
            yield contract.location(operation.node), f"{_label(operation)} sans description."


@rule(DESIGN, "operation-tags", "warning", HYGIENE, "Chaque opération a au moins un tag.", optional=True)
def operation_tags(contract: Document) -> Iterator[tuple[str, str]]:
    """Every operation under `paths` has at least one tag (the documentation groups operations by tag)."""
    for operation in contract.operations():
        if not _items(operation.node.find("tags")):
            yield contract.location(operation.node), f"{_label(operation)} sans tags."


@rule(
    DESIGN,
    "composants-inutilises",
    "warning",
    HYGIENE,
    "Chaque composant réutilisable est référencé par un $ref.",
    optional=True,
)
def unused_components(contract: Document) -> Iterator[tuple[str, str]]:
    """Every reusable component (schemas, responses, parameters…) is used by a `$ref` of the contract's files."""
    used = _reference_targets(contract)
    for container in COMPONENT_CONTAINERS:
        holder: Node | None = contract.root
        for key in container:
            holder = holder.find(key) if holder is not None else None
        for name, component in _mapping_items(holder):
            if component.identity not in used:
                yield contract.location(component), f"composant « {name} » défini mais jamais référencé."


@rule(
    DESIGN,
    "rappels-erreurs-4xx",
    "warning",
    ASP,
    "Chaque opération de rappel documente une réponse 4xx (refus d'un retour).",
    optional=True,
)
def callback_client_errors(contract: Document) -> Iterator[tuple[str, str]]:
    """Every callback operation documents the 4XX its receiver answers to a return it refuses."""
    for operation in contract.operations(callbacks=True):
        if operation.callback and not any(code.startswith("4") for code, _ in _responses(operation)):
            where = contract.location(operation.node.find("responses") or operation.node)
            yield where, f"{_label(operation)} : aucune réponse 4xx documentée (refus d'un retour par le récepteur)."


# --- Service contract -------------------------------------------------------------------------------


@rule(
    SERVICE, "contrat-de-service", "error", ASP, "Le contrat de service a chaque section exigée par l'ASP, bien typée."
)
def service_contract_sections(contract: Document) -> Iterator[tuple[str, str]]:
    """Every section the ASP requires is present and typed (harness.foundations.service_contract)."""
    for defect in service_contract_defects(contract.data):
        where, _, message = defect.partition(" : ")
        tokens = [] if where == "(racine)" else where.split("/")
        missing = re.fullmatch(r"'(.+)' is a required property", message)
        if missing:
            yield pointer(*tokens, missing.group(1)), f"section ou champ obligatoire absent : {missing.group(1)}"
        else:
            yield pointer(*tokens), f"contrat de service non conforme : {message}"


@rule(
    SERVICE,
    "contrat-de-service-references",
    "warning",
    ASP,
    "Les contrats OpenAPI que nomme le contrat de service existent à côté de lui.",
)
def service_contract_references(contract: Document) -> Iterator[tuple[str, str]]:
    """The OpenAPI contracts the service contract names exist beside it."""
    api = contract.root.find("contratDeService")
    api = api.find("api") if api else None
    for key in ("contrat", "rappel"):
        name = api.text(key) if api else ""
        if name and not (contract.path.parent / name).is_file():
            yield pointer("contratDeService", "api", key), f"contrat « {name} » introuvable près du contrat de service."


# --- JSON Schemas of the archive exchange (contracts/archives) ---------------------------------------


@rule(
    JSON_SCHEMA,
    "schema-json-valide",
    "error",
    ASP,
    "Un schéma JSON de l'échange d'archives (manifeste, notification, retour…) est valide pour son métaschéma.",
)
def json_schema_valid(contract: Document) -> Iterator[tuple[str, str]]:
    """The schema checked against the metaschema its `$schema` names (draft 2020-12 by default)."""
    validator = jsonschema.validators.validator_for(contract.data, default=jsonschema.Draft202012Validator)
    for error in validator(validator.META_SCHEMA).iter_errors(contract.data):
        yield pointer(*(str(token) for token in error.absolute_path)), f"schéma JSON invalide : {error.message}"


# --- Helpers ----------------------------------------------------------------------------------------


def _label(operation: Operation) -> str:
    kind = "rappel" if operation.callback else "opération"
    return f"{kind} {operation.method.upper()} {operation.path}"


def _responses(operation: Operation) -> Iterator[tuple[str, Node]]:
    responses = operation.node.find("responses")
    if responses is not None and isinstance(responses.value, dict):
        yield from responses.children()


def _templates(contract: Document) -> list[str]:
    paths = contract.data.get("paths")
    return [str(t) for t in paths if str(t).startswith("/")] if isinstance(paths, dict) else []


def _literal_segments(template: str) -> list[str]:
    return [segment for segment in template.split("/") if segment and not TEMPLATE.fullmatch(segment)]


def _words(segment: str) -> list[str]:
    """The words of a segment, lowercase without accents: `getDepot` → get, depot; `creer-depot` → creer, depot."""
    plain = unicodedata.normalize("NFKD", segment).encode("ascii", "ignore").decode()
    return [word.lower() for word in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", TEMPLATE.sub("", plain))]


def _is_collection(segment: str, following: str) -> bool:
    """A literal segment followed by a lone `{param}` names a collection (a version segment does not)."""
    literal = segment and not TEMPLATE.search(segment) and not VERSION_SEGMENT.fullmatch(segment)
    return bool(literal) and TEMPLATE.fullmatch(following) is not None


def _looks_like_id(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("id") or lowered.endswith("id")


def _properties(schema: Node) -> Iterator[tuple[str, Node]]:
    properties = schema.find("properties")
    if properties is not None and isinstance(properties.value, dict):
        yield from properties.children()


def _is_named(schema: Node) -> bool:
    return schema.tokens[:-1] in (("components", "schemas"), ("definitions",))


def _descriptions(contract: Document) -> Iterator[str]:
    for reached in contract.walk():
        if not reached.is_schema and reached.broken is None:
            yield reached.node.text("description")


def _scheme_type(node: Node) -> str:
    return node.text("type")


def _security_defects(contract: Document, operation: Operation) -> Iterator[tuple[str, str]]:
    own = operation.node.find("security")
    requirements = own if own is not None else contract.root.find("security")
    if requirements is None:
        message = f"{_label(operation)} : aucune exigence de sécurité (ni globale, ni propre à l'opération)."
        yield contract.location(operation.node), message
        return
    if not requirements.value:
        yield contract.location(requirements), MESSAGE_EMPTY_SECURITY.format(operation=_label(operation))
        return
    schemes = contract.security_schemes()
    for _, requirement in requirements.children():
        yield from _requirement_defects(contract, operation, requirement, schemes)


def _requirement_defects(
    contract: Document, operation: Operation, requirement: Node, schemes: dict[str, Node]
) -> Iterator[tuple[str, str]]:
    names = list(requirement.value) if isinstance(requirement.value, dict) else []
    where = contract.location(requirement)
    if not names:
        yield where, f"{_label(operation)} : exigence vide « {{}} » : l'opération devient accessible sans jeton."
    for name in names:
        if name not in schemes:
            yield where, f"{_label(operation)} : schéma de sécurité « {name} » non déclaré."
    if names and not any(_scheme_type(schemes[n]) in contract.dialect.oauth_types for n in names if n in schemes):
        yield where, f"{_label(operation)} : l'exigence n'utilise ni OAuth 2.0 ni OpenID Connect."


def _scheme_lists(contract: Document) -> Iterator[Node]:
    """The `schemes` lists of a Swagger 2.0 contract: global, then per operation."""
    nodes = [contract.root.find("schemes")] + [op.node.find("schemes") for op in contract.operations()]
    yield from (node for node in nodes if node is not None and node.elements())


def _servers(contract: Document) -> Iterator[Node]:
    """Every Server Object of a 3.x contract (global, path and operation level), once each."""
    holders = [contract.root]
    for operation in contract.operations():
        holders += [operation.path_item, operation.node]
    servers = {contract.location(server): server for holder in holders for server in _items(holder.find("servers"))}
    yield from servers.values()


def _expanded_urls(server: Node) -> set[str]:
    """The server URL with its variables replaced by their default and every value of their enum."""
    url = server.text("url")
    variables = server.find("variables")
    if variables is None or not isinstance(variables.value, dict):
        return {url}
    choices: list[list[tuple[str, str]]] = []
    for name, variable in variables.children():
        spec = variable.value if isinstance(variable.value, dict) else {}
        values = [*(spec.get("enum") or []), spec.get("default")]
        choices.append([(name, str(v)) for v in values if v is not None])
    return {_substitute(url, dict(combination)) for combination in itertools.product(*choices)}


def _substitute(url: str, values: dict[str, str]) -> str:
    return TEMPLATE.sub(lambda m: values.get(m.group(1), m.group(0)), url)


def _scheme(url: str) -> str:
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    return match.group(1).lower() if match else ""


def _problem_defect(contract: Document, operation: Operation, response: Node) -> str | None:
    """Why an error response is not usable by a program, or None when it is proper problem details."""
    if contract.is_swagger2:
        produces = operation.node.find("produces") or contract.root.find("produces")
        if produces is None or PROBLEM_JSON not in (produces.value or []):
            return f"{PROBLEM_JSON} absent de produces : les erreurs doivent suivre la RFC 9457."
        schema = response.find("schema")
    else:
        content = response.find("content")
        media = content.find(PROBLEM_JSON) if content else None
        if media is None:
            return f"pas de contenu {PROBLEM_JSON} : les erreurs doivent suivre la RFC 9457."
        schema = media.find("schema")
    if schema is None:
        return f"contenu {PROBLEM_JSON} sans schéma."
    missing = [member for member in PROBLEM_MEMBERS if member not in _all_properties(contract, schema)]
    if missing:
        return f"le schéma problem+json n'a pas {', '.join(missing)} (RFC 9457)."
    return None


def _all_properties(contract: Document, schema: Node, seen: frozenset[str] = frozenset()) -> set[str]:
    """The property names of a schema, `allOf` members included, `$ref`s followed, cycles cut."""
    try:
        schema = contract.resolve(schema)
    except RefError:
        return set()
    here = contract.location(schema)
    if here in seen:
        return set()
    names = {name for name, _ in _properties(schema)}
    for member in _items(schema.find("allOf")):
        names |= _all_properties(contract, member, seen | {here})
    return names


def _mapping_items(node: Node | None) -> Iterator[tuple[str, Node]]:
    if node is not None and isinstance(node.value, dict):
        yield from node.children()


def _reference_targets(contract: Document) -> set[tuple[str, tuple[str, ...]]]:
    """The file and pointer tokens every `$ref` of the contract's files (read by walking it) points at."""
    for _ in contract.walk():
        pass  # reads every file the contract reaches
    targets: set[tuple[str, tuple[str, ...]]] = set()
    for uri, parsed in contract.resolver.files.items():
        stack = [parsed.data]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                if isinstance(value.get("$ref"), str):
                    target, fragment = urldefrag(urljoin(uri, value["$ref"]))
                    tokens = tuple(t.replace("~1", "/").replace("~0", "~") for t in unquote(fragment).split("/")[1:])
                    targets.add((target, tokens))
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
    return targets


def _items(node: Node | None) -> list[Node]:
    """The items of a list node; nothing for anything else (or no node)."""
    return node.elements() if node is not None else []


ALL_RULES: list[Rule] = [*PRELIMINARY, *STRUCTURE, *DESIGN, *SERVICE, *JSON_SCHEMA]
"""Every rule, in the order they run."""
