"""HTTP layer of the reference titulaire: the routes of `contracts/titulaire/v1` and `v2/openapi.yaml`, side by side.

Where a deposit is accepted: `deposit()`. Each route authenticates, checks its parameters against the
contract, calls the `Titulaire` service and answers JSON or problem+json.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from harness.foundations.batch_lane import BatchLane
from harness.foundations.billing import MOTIF_HEADER, RUN_HEADER
from harness.foundations.contracts import TITULAIRE_V2_MIGRATION, contract_path
from harness.foundations.problems import Problem, ProblemResponse
from harness.foundations.tls import client_context
from harness.foundations.tls_scope import peer_certificate
from harness.foundations.token_verifier import TokenVerifier
from harness.reference.faults import Answer, Fault
from harness.reference.intake import MultipartIntake, ReceivedBody, boundary_of
from harness.reference.lifecycle import VersionLifecycle, planned_lifecycles
from harness.reference.limits import TransactionLimit
from harness.reference.paper.posting import ROUTE as PLI_ROUTE
from harness.reference.paper.posting import read_posting
from harness.reference.service import RunTags, Titulaire, compact_json, receipt_size
from harness.reference.settings import IntakeLimits, ReferenceSettings
from harness.reference.validation import ResponseAudit, check_deposit_body, check_parameters
from harness.reference.versions import CONTRACTS, RELEASES, metadata_in, prefix_of, state_out
from harness.reference.worker import timestamp

log = logging.getLogger(__name__)
WRITE, READ = "depots:ecrire", "depots:lire"
FEED_BATCH_BYTES = 1024 * 1024


def titulaire_of(request: Request) -> Titulaire:
    return request.app.state.titulaire


async def authorize(request: Request, scope: str) -> None:
    """Bearer token check (OAuth 2.0, certificate-bound tokens of RFC 8705), when an issuer is configured."""
    verifier = request.app.state.verifier
    if verifier is not None:
        await verifier.verify(request.headers.get("authorization"), scope, peer_certificate(request.scope))


async def deposit(request: Request) -> Response:
    """POST /v{1,2}/depots: receive the parts, stream the documents to disk, answer 202 AccuseReception."""
    titulaire = titulaire_of(request)
    await authorize(request, WRITE)
    titulaire.ensure_accepting()
    check_parameters(request)
    limits = titulaire.settings.limits
    boundary = boundary_of(request.headers.get("content-type", ""), limits.boundary_length)
    tags = run_tags(request, limits.tag_length)
    intake = MultipartIntake(boundary, titulaire.deposit_directory(str(uuid.uuid4())), limits)
    with titulaire.deposit_slot():
        try:
            body, body_bytes = await _receive(request, intake, limits)
            checked = await _checked_while_flushed(request, intake, body, limits)
            metadata = metadata_in(request.url.path, checked)
            accepted = await titulaire.accept(metadata, body, body_bytes, request.headers.get("idempotency-key"), tags)
        except BaseException:
            await asyncio.to_thread(intake.discard)
            raise
    if accepted.replayed:  # same Idempotency-Key, same content: the first deposit stands, this copy goes
        await asyncio.to_thread(intake.discard)
    location = f"{prefix_of(request.url.path)}/depots/{accepted.deposit.id}"
    answer = Answer(202, json.loads(accepted.body()), {"Location": location})
    answer = titulaire.faults.apply(Fault.deposit_answer, answer)
    work = None if accepted.replayed else BackgroundTask(titulaire.worker.wake)  # once the 202 is sent
    content = compact_json(answer.body)
    return Response(content, answer.status, headers=answer.headers, media_type="application/json", background=work)


def run_tags(request: Request, max_length: int) -> RunTags:
    """The billing tags of the request (X-Recette-Run, X-Recette-Motif), bounded before they are stored."""
    tags = RunTags(request.headers.get(RUN_HEADER), request.headers.get(MOTIF_HEADER))
    if any(tag is not None and len(tag) > max_length for tag in (tags.run_id, tags.motif)):
        raise Problem("parametre-invalide", f"Une étiquette X-Recette-* dépasse {max_length} caractères (limite).")
    return tags


async def _receive(request: Request, intake: MultipartIntake, limits: IntakeLimits) -> tuple[ReceivedBody, int]:
    """Stream the body into `intake`, within the idle and total upload times; return it and its size in bytes.

    The chunks are gathered (not copied) into batches of `FEED_BATCH_BYTES`, each parsed and written on a
    worker thread while the event loop receives the next (`BatchLane`).
    """
    received, chunks, lane = 0, aiter(request.stream()), BatchLane(intake.feed, FEED_BATCH_BYTES)
    try:
        async with asyncio.timeout(limits.upload_seconds):
            while (chunk := await _next_chunk(chunks, limits.idle_seconds)) is not None:
                received += len(chunk)
                await lane.add(chunk)
            await lane.close()
    except BaseException as error:
        await lane.abandon()  # the thread must end before the discard
        if isinstance(error, TimeoutError):
            detail = f"Le corps du dépôt n'a pas été reçu en {limits.upload_seconds:g} s (limite)."
            raise Problem("requete-invalide", detail) from error
        raise
    return intake.finish(), received


async def _checked_while_flushed(
    request: Request, intake: MultipartIntake, body: ReceivedBody, limits: IntakeLimits
) -> dict[str, Any]:
    """The metadata checked against the contract on the loop while a thread puts the documents on stable
    storage: the 202 waits for the longer of the two, not for their sum."""
    flushed = asyncio.get_running_loop().run_in_executor(None, intake.flush)  # starts now, not at the next await
    try:
        checked = check_deposit_body(request, body.metadata, [d.name for d in body.documents], limits.metadata_depth)
    except BaseException:
        with contextlib.suppress(Exception):  # the refusal is the answer; the thread must end before the discard
            await flushed
        raise
    await flushed
    return checked


async def _next_chunk(chunks: AsyncIterator[bytes], idle_seconds: float) -> bytes | None:
    """The next chunk of the body, None at its end; a problem when the client sends nothing for `idle_seconds`."""
    try:
        async with asyncio.timeout(idle_seconds):
            return await anext(chunks)
    except StopAsyncIteration:
        return None
    except TimeoutError as error:
        raise Problem(
            "requete-invalide", f"Le client n'a rien envoyé du corps pendant {idle_seconds:g} s (limite)."
        ) from error


async def post_pli(request: Request) -> Response:
    """POST /_recette/plis (reference only, outside the contract): the mail room receives a pli (mode papier)."""
    titulaire = titulaire_of(request)
    await authorize(request, WRITE)
    titulaire.ensure_accepting()
    tags = run_tags(request, titulaire.settings.limits.tag_length)
    deposit = await titulaire.mailroom.receive(read_posting(await request.body()), tags.run_id, tags.motif)
    assert deposit.pli is not None
    body = {"idPli": deposit.pli["idPli"], "idDepot": deposit.id, "recuLe": timestamp(deposit.received_at)}
    return JSONResponse(body, 201, headers={"Location": f"/v1/depots/{deposit.id}"})


async def deposit_state(request: Request) -> Response:
    """GET /v{1,2}/depots/{idDepot}: state and history (EtatDepot), in the model of the version called."""
    await authorize(request, READ)
    check_parameters(request)
    titulaire = titulaire_of(request)
    state = state_out(request.url.path, await titulaire.state(request.path_params["idDepot"]))
    return JSONResponse(titulaire.faults.apply(Fault.state_answer, state, request.url.path))


async def resend(request: Request) -> Response:
    """POST /v{1,2}/depots/{idDepot}/retransmissions: send the same return again."""
    await authorize(request, WRITE)
    check_parameters(request)
    titulaire = titulaire_of(request)
    titulaire.ensure_accepting()
    deposit_id = request.path_params["idDepot"]
    body = titulaire.faults.apply(Fault.resend_answer, await titulaire.resend(deposit_id))
    return JSONResponse(body, 202, headers={"Location": f"{prefix_of(request.url.path)}/depots/{deposit_id}"})


async def health(request: Request) -> Response:
    """GET /v{1,2}/sante: the version is the one of the contract called."""
    await authorize(request, READ)
    titulaire = titulaire_of(request)
    titulaire.ensure_accepting()
    body = {"statut": "OK", "version": RELEASES[prefix_of(request.url.path)]}
    return JSONResponse(titulaire.faults.apply(Fault.health_answer, body))


async def contract(request: Request) -> Response:
    """GET /v{1,2}/openapi.yaml: the hand-written OpenAPI 3.0.3 contract of the version, as served."""
    return FileResponse(contract_path(CONTRACTS[prefix_of(request.url.path)]), media_type="application/yaml")


async def migration_guide(request: Request) -> Response:
    """GET /v2/migration: the v1 → v2 migration guide (target of the v1 `rel="deprecation"` link)."""
    await authorize(request, READ)
    return FileResponse(contract_path(TITULAIRE_V2_MIGRATION), media_type="text/markdown; charset=utf-8")


def refuse(request: Request, problem: Problem) -> Response:
    """The problem+json answer of a refused request (as the armed faults, if any, alter it)."""
    faults = titulaire_of(request).faults
    problem = faults.apply(Fault.refusal, problem, request.url.path)
    body = faults.apply(Fault.problem_body, problem.body(request.url.path))
    return ProblemResponse(body, problem.status, problem.headers)


async def problem_handler(request: Request, problem: Exception) -> Response:
    assert isinstance(problem, Problem)
    return refuse(request, problem)


async def http_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = "methode-non-autorisee" if error.status_code == 405 else "ressource-inconnue"
    detail = f"{request.method} {request.url.path} n'existe pas dans ce contrat."
    return refuse(request, Problem(code, detail, headers=dict(error.headers or {})))  # 405: Allow


async def internal_error_handler(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return refuse(request, Problem("erreur-interne", "Une erreur interne est survenue ; elle a été journalisée."))


def token_verifier(settings: ReferenceSettings) -> TokenVerifier | None:
    """The Bearer token check, when an issuer is configured (mutual TLS alone otherwise)."""
    if settings.issuer_url is None:
        return None
    pair = settings.client_certificate()
    verify = client_context(settings.ca_file, pair) if settings.ca_file else ssl.create_default_context()
    return TokenVerifier(settings.issuer_url, settings.audience, verify)


def version_routes(prefix: str) -> list[Route]:
    """The routes of one major (`/v1` or `/v2`): same handlers, translated at the edge (`versions.py`)."""
    return [
        Route(f"{prefix}/depots", deposit, methods=["POST"]),
        Route(f"{prefix}/depots/{{idDepot}}", deposit_state, methods=["GET"]),
        Route(f"{prefix}/depots/{{idDepot}}/retransmissions", resend, methods=["POST"]),
        Route(f"{prefix}/sante", health, methods=["GET"]),
        Route(f"{prefix}/openapi.yaml", contract, methods=["GET"]),
    ]


def create_app(titulaire: Titulaire) -> Starlette:
    """The ASGI application: the versions' lifecycle outermost (deprecation headers, 410 once a major is
    retired: its contract no longer applies, so that answer is not audited), then the contract audit, then
    the transaction limit, then the routes."""
    settings, faults = titulaire.settings, titulaire.faults
    audit = Middleware(ResponseAudit, violations=titulaire.contract_violations) if settings.validate_responses else None
    app = Starlette(
        routes=[
            *[route for prefix in settings.majors or CONTRACTS for route in version_routes(prefix)],
            Route("/v2/migration", migration_guide, methods=["GET"]),
            Route(PLI_ROUTE, post_pli, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                VersionLifecycle,
                clock=titulaire.clock,
                lifecycles=faults.apply(Fault.lifecycles, planned_lifecycles()),
                faults=faults,
            ),
            *([audit] if audit else []),
            Middleware(
                TransactionLimit,
                limit_bytes=faults.apply(Fault.transaction_limit, settings.limit_bytes),
                response_reserve=receipt_size,
                drain_max_bytes=settings.drain_max_bytes,
                drain_seconds=settings.drain_seconds,
                refuse_on_declared_size=faults.apply(Fault.refuse_on_declared_size, True),
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
    app.state.verifier = faults.apply(Fault.token_verifier, token_verifier(settings))
    return app
