"""HTTP layer of the reference titulaire: the routes of `contracts/titulaire/v1/openapi.yaml`.

Where a deposit is accepted: `deposit()`. Each route authenticates, checks its parameters against the
contract, calls the `Titulaire` service and answers JSON or problem+json.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from harness.auth import TokenVerifier
from harness.billing import MOTIF_HEADER, RUN_HEADER
from harness.contracts import TITULAIRE_V1, contract_path
from harness.problems import Problem
from harness.reference.intake import MultipartIntake, ReceivedBody, boundary_of
from harness.reference.limits import TransactionLimit
from harness.reference.service import RunTags, Titulaire, receipt_size
from harness.reference.settings import ReferenceSettings
from harness.reference.validation import ResponseAudit, check_deposit_body, check_parameters
from harness.tls import CertificatePair, client_context
from harness.tls_scope import peer_certificate

log = logging.getLogger(__name__)
WRITE, READ = "depots:ecrire", "depots:lire"


def titulaire_of(request: Request) -> Titulaire:
    return request.app.state.titulaire


async def authorize(request: Request, scope: str) -> None:
    """Bearer token check (OAuth 2.0, certificate-bound tokens of RFC 8705), when an issuer is configured."""
    verifier = request.app.state.verifier
    if verifier is not None:
        await verifier.verify(request.headers.get("authorization"), scope, peer_certificate(request.scope))


async def deposit(request: Request) -> Response:
    """POST /v1/depots: receive the parts, stream the documents to disk, answer 202 AccuseReception."""
    titulaire = titulaire_of(request)
    await authorize(request, WRITE)
    titulaire.ensure_accepting()
    check_parameters(request)
    boundary = boundary_of(request.headers.get("content-type", ""))
    intake = MultipartIntake(
        boundary, titulaire.deposit_directory(str(uuid.uuid4())), titulaire.settings.max_metadata_bytes
    )
    with titulaire.deposit_slot():
        try:
            body, body_bytes = await _receive(request, intake)
            metadata = check_deposit_body(request, body.metadata, [d.name for d in body.documents])
            tags = RunTags(request.headers.get(RUN_HEADER), request.headers.get(MOTIF_HEADER))
            accepted = titulaire.accept(metadata, body, body_bytes, request.headers.get("idempotency-key"), tags)
        except BaseException:
            intake.discard()
            raise
    if accepted.replayed:  # same Idempotency-Key, same content: the first deposit stands, this copy goes
        intake.discard()
    return Response(
        accepted.body(),
        202,
        headers={"Location": f"/v1/depots/{accepted.deposit.id}"},
        media_type="application/json",
    )


async def _receive(request: Request, intake: MultipartIntake) -> tuple[ReceivedBody, int]:
    """Stream the body into `intake`; return what it held and its size in bytes."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        intake.feed(chunk)
    return await asyncio.to_thread(intake.finish), received


async def deposit_state(request: Request) -> Response:
    """GET /v1/depots/{idDepot}: state and history (EtatDepot)."""
    await authorize(request, READ)
    check_parameters(request)
    return JSONResponse(titulaire_of(request).state(request.path_params["idDepot"]))


async def resend(request: Request) -> Response:
    """POST /v1/depots/{idDepot}/retransmissions: send the same return again."""
    await authorize(request, WRITE)
    check_parameters(request)
    titulaire = titulaire_of(request)
    titulaire.ensure_accepting()
    deposit_id = request.path_params["idDepot"]
    body = titulaire.resend(deposit_id)
    return JSONResponse(body, 202, headers={"Location": f"/v1/depots/{deposit_id}"})


async def health(request: Request) -> Response:
    """GET /v1/sante."""
    await authorize(request, READ)
    titulaire_of(request).ensure_accepting()
    return JSONResponse({"statut": "OK", "version": "1.0.0"})


async def contract(_request: Request) -> Response:
    """GET /v1/openapi.yaml: the hand-written OpenAPI 3.0.3 contract, as served."""
    return FileResponse(contract_path(TITULAIRE_V1), media_type="application/yaml")


async def problem_handler(request: Request, problem: Exception) -> Response:
    assert isinstance(problem, Problem)
    return problem.response(request.url.path)


async def http_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = "methode-non-autorisee" if error.status_code == 405 else "ressource-inconnue"
    return Problem(code, f"{request.method} {request.url.path} n'existe pas dans ce contrat.").response(
        request.url.path
    )


async def internal_error_handler(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return Problem("erreur-interne", "Une erreur interne est survenue ; elle a été journalisée.").response(
        request.url.path
    )


def token_verifier(settings: ReferenceSettings) -> TokenVerifier | None:
    """The Bearer token check, when an issuer is configured (mutual TLS alone otherwise)."""
    if settings.issuer_url is None:
        return None
    pair = CertificatePair(settings.client_cert, settings.client_key) if settings.client_cert else None
    verify = client_context(settings.ca_file, pair) if settings.ca_file else ssl.create_default_context()
    return TokenVerifier(settings.issuer_url, settings.audience, verify)


def create_app(titulaire: Titulaire) -> Starlette:
    """The ASGI application: the contract audit outermost, then the transaction limit, then the routes."""
    settings = titulaire.settings
    audit = Middleware(ResponseAudit, violations=titulaire.contract_violations) if settings.validate_responses else None
    app = Starlette(
        routes=[
            Route("/v1/depots", deposit, methods=["POST"]),
            Route("/v1/depots/{idDepot}", deposit_state, methods=["GET"]),
            Route("/v1/depots/{idDepot}/retransmissions", resend, methods=["POST"]),
            Route("/v1/sante", health, methods=["GET"]),
            Route("/v1/openapi.yaml", contract, methods=["GET"]),
        ],
        middleware=[
            *([audit] if audit else []),
            Middleware(
                TransactionLimit,
                limit_bytes=settings.limit_bytes,
                response_reserve=receipt_size,
                drain_max_bytes=settings.drain_max_bytes,
                drain_seconds=settings.drain_seconds,
            ),
        ],
        exception_handlers={
            Problem: problem_handler,
            HTTPException: http_error_handler,
            Exception: internal_error_handler,
        },
        lifespan=titulaire.running,
    )
    app.state.titulaire = titulaire
    app.state.verifier = token_verifier(settings)
    return app
