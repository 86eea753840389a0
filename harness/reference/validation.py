"""Requests and responses of the reference checked against the titulaire contract of their route (openapi-core).

The contract is the only place where models are described. A deposit body is too large to hand to
openapi-core whole, so its parameters are validated as received and its body as its parts were decoded on
the way in (the `metadonnees` part parsed, every document part empty): openapi-core checks them against
the contract's schema of the multipart body without building or re-reading a message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.validation.request.validators import V30RequestBodyValidator, V30RequestParametersValidator
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.foundations.contract_errors import describe
from harness.foundations.contracts import ContractRequest, ContractResponse, openapi
from harness.foundations.multipart import DOCUMENT_PART, METADATA_PART
from harness.foundations.problems import Problem
from harness.reference.versions import contract_for

log = logging.getLogger(__name__)
AUDITED_MEDIA_TYPES = ("application/json", "application/problem+json")
MAX_AUDITED_BYTES = 1_000_000


def contract_request(request: Request, body: bytes | None = None, content_type: str = "") -> ContractRequest:
    """`request` as openapi-core reads it, against the titulaire contract of its route."""
    return ContractRequest.received(contract_for(request.url.path), request, body, content_type)


def check_parameters(request: Request) -> None:
    """Path, query and header parameters as the contract declares them, else a 400 problem."""
    validator = V30RequestParametersValidator(openapi(contract_for(request.url.path)).spec)
    errors = list(validator.iter_errors(contract_request(request).for_openapi()))
    if errors:
        raise Problem("parametre-invalide", "Paramètre non conforme au contrat.", {"erreurs": describe(errors)})


def _refuse_constant(name: str) -> None:
    raise Problem("metadonnees-invalides", f"Les métadonnées contiennent {name}, que JSON ne peut pas porter.")


def parse_metadata(raw: bytes, max_depth: int) -> Any:
    """The `metadonnees` part as JSON (UTF-8, RFC 8259), refused when the contract cannot carry it.

    NaN and ±Infinity, lone surrogates and nesting deeper than `max_depth` are refused here, at the door:
    a deposit accepted with them could never have its return serialised.
    """
    try:
        parsed = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError as error:
        raise _too_deep(max_depth) from error
    except ValueError as error:  # UnicodeDecodeError included
        raise Problem("requete-invalide", "La partie « metadonnees » n'est pas du JSON valide en UTF-8.") from error
    if _depth(parsed) > max_depth:
        raise _too_deep(max_depth)
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise Problem(
            "metadonnees-invalides", "Les métadonnées contiennent un caractère isolé (surrogate) hors d'UTF-8."
        ) from error
    return parsed


def _too_deep(max_depth: int) -> Problem:
    return Problem(
        "metadonnees-invalides", f"Les métadonnées sont imbriquées sur plus de {max_depth} niveaux (limite)."
    )


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), walked without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def check_deposit_body(
    request: Request, metadata: bytes | None, document_names: list[str], max_depth: int
) -> dict[str, Any]:
    """Validate a deposit's parts against the contract; return the metadata (MetadonneesDepot)."""
    if metadata is None:
        raise Problem("requete-invalide", "La partie « metadonnees » est absente.")
    parsed = parse_metadata(metadata, max_depth)
    if not document_names:
        raise Problem("requete-invalide", "Le dépôt ne contient aucune partie « document ».")
    parts = {METADATA_PART: parsed, DOCUMENT_PART: [b""] * len(document_names)}
    spec = openapi(contract_for(request.url.path)).spec
    errors = list(DecodedBodyValidator(spec, parts).iter_errors(contract_request(request, metadata).for_openapi()))
    if errors:
        raise Problem(
            "metadonnees-invalides", "Les métadonnées ne sont pas conformes au contrat.", {"erreurs": describe(errors)}
        )
    return parsed


class DecodedBodyValidator(V30RequestBodyValidator):
    """openapi-core's check of a request body, given the body's parts already decoded: the operation, the
    media type and the schema are the contract's, but the body is not deserialised again."""

    def __init__(self, spec: Any, parts: dict[str, Any]) -> None:
        super().__init__(spec)
        self._parts = parts

    def _deserialise_media_type(
        self, media_type: Any, mimetype: str, parameters: Mapping[str, str], value: bytes
    ) -> Any:
        return self._parts


class ResponseAudit:
    """ASGI middleware: checks every JSON response against the contract, without delaying it.

    A reference implementation must never drift from its contract: each violation is logged and kept in
    `violations`, which the tests assert empty.
    """

    def __init__(self, app: ASGIApp, violations: list[str]) -> None:
        self.app = app
        self.violations = violations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        captured: dict[str, Any] = {"body": bytearray()}

        async def audited_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                if len(captured["body"]) < MAX_AUDITED_BYTES:
                    captured["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    self._audit(scope, captured)

        await self.app(scope, receive, audited_send)

    def _audit(self, scope: Scope, captured: dict[str, Any]) -> None:
        response = ContractResponse.answered(captured["status"], bytes(captured["body"]), captured["headers"])
        if response.content_type not in AUDITED_MEDIA_TYPES:
            return
        request = Request(scope)
        checked = contract_request(request).for_openapi()
        errors = openapi(contract_for(request.url.path)).iter_response_errors(checked, response)
        for error in errors:
            if isinstance(error, PathNotFound | OperationNotFound):
                return  # a route the contract does not describe (answered 404/405)
            violation = f"{request.method} {request.url.path} → {captured['status']}: {describe([error])}"
            log.error("response off contract: %s", violation)
            self.violations.append(violation)
