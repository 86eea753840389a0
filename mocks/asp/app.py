"""HTTP layer of the mock ASP callback API (`contracts/asp-callback/v1/openapi.yaml`).

Where a return reaches the ASP: `receive_return()`. Every call is authenticated (mutual TLS by the server,
and a Bearer token with `retours:ecrire` when the mock is given a `TokenVerifier`), validated against the
contract, judged against the "exactly one return per deposit" rule, recorded on disk (faulted and refused
calls included), then answered (202 `Acquittement` or problem+json, both checked against the contract).
A body the mock does not read whole (an unauthenticated call's, a return over the 20 MB rule: 413) is
recorded as its first `HEAD_BYTES_KEPT` bytes and its `Truncation`, so no body grows the journal unbounded.
`/_inspection/…` (see `inspection.py`), for the recette team's identity alone, shows the journal, arms
faults and lists the mails caught by the SMTP catcher. An error of the mock itself is logged and answered
with a generic 500 problem: its text never leaves the process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.foundations.problems import Problem
from harness.foundations.tls_scope import peer_certificate
from harness.foundations.token_verifier import TokenVerifier
from mocks.asp import inspection
from mocks.asp.faults import DELAY, DROP, DroppedConnection, Fault, FaultPlan, expose_transport, fault_problem
from mocks.asp.recorder import NOT_SHOWABLE, ReceivedCall, ReturnRecorder, Truncation, Verdict
from mocks.asp.state import MailSource, MockState
from mocks.asp.validation import check_response, check_return, unshowable_problem

log = logging.getLogger(__name__)
WRITE_RETURNS = "retours:ecrire"
ACK_RESERVE_BYTES = 1024
MAX_RETURN_BYTES = TRANSACTION_LIMIT_BYTES - ACK_RESERVE_BYTES
"""The largest return whose transaction (return + acquittement) fits the 20 MB limit."""
HEAD_BYTES_KEPT = 64 * 1024
"""Of a body not read whole (an unauthenticated call's, a return over the limit), the journal keeps this head,
with the size and SHA-256 of what was read (`Truncation`)."""
INTERNAL_ERROR = "Erreur interne du mock de l'ASP ; elle est consignée dans son journal d'exploitation."


def state_of(request: Request) -> MockState:
    return request.app.state.mock


async def receive_return(request: Request) -> Response:
    """POST /v1/retours: authenticate, validate, judge, acknowledge (acquittement) and record one return."""
    state = state_of(request)
    received_at, content_type = state.recorder.clock(), request.headers.get("content-type", "")
    refusal = await _authentication_refusal(request, state.verifier)
    if refusal is not None:  # only the head of its body is read, to name its deposit in the journal
        head, truncation = await read_head(request, HEAD_BYTES_KEPT)
        call = ReceivedCall.of(received_at, head, content_type)
        call.truncation, call.violations = truncation, [refusal.code] if refusal.status in (401, 403) else []
        call.detail = refusal.detail
        return await _answer(request, call, refusal.response())
    try:
        call = ReceivedCall.of(received_at, await read_bounded(request, MAX_RETURN_BYTES), content_type)
    except BodyTooLarge as too_large:
        call = ReceivedCall.of(received_at, too_large.head, content_type)
        call.truncation, call.violations, call.detail = too_large.truncation, [too_large.code], too_large.detail
        return await _answer(request, call, too_large.response())
    try:
        response = await _judged(request, state, call)
    except Exception:  # a bug of the mock: the call is recorded all the same, the titulaire gets a generic 500
        log.exception("mock ASP callback failed on a return")
        call.detail = INTERNAL_ERROR
        response = Problem("erreur-interne", INTERNAL_ERROR).response()
    return await _answer(request, call, response)


async def _judged(request: Request, state: MockState, call: ReceivedCall) -> Response:
    """Apply an armed fault, else the contract and the "exactly one return per deposit" rule."""
    fault = state.faults.take()
    call.fault = fault.kind if fault else None
    problem = unshowable_problem() if call.unreadable == NOT_SHOWABLE else check_return(request, call.body)
    if problem is not None:
        call.errors = list(problem.extensions["erreurs"])
        call.violations = [f"{error['emplacement']} : {error['message']}" for error in call.errors]
    if fault is not None and fault.kind != DELAY:
        return _faulted(call, fault)
    if fault is not None:
        await asyncio.sleep(fault.delay_seconds)
    if problem is not None:
        call.detail = problem.detail
        return problem.response()
    return _judge(state.recorder, call)


async def read_head(request: Request, limit: int) -> tuple[bytes, Truncation | None]:
    """The first `limit` bytes of the body (what is left is never read), and how it was cut, if it was."""
    read, declared = await _read_up_to(request, limit), _declared_length(request)
    if len(read) <= limit and (declared is None or declared <= len(read)):
        return bytes(read), None
    return bytes(read[:limit]), Truncation.of(read, declared)


class BodyTooLarge(Problem):
    """A 413 for a return over the 20 MB rule, with what the journal keeps of it: its head and a `Truncation`."""

    def __init__(self, limit: int, head: bytes, truncation: Truncation) -> None:
        detail = f"Le retour dépasse {limit} octets : la transaction dépasserait la limite de 20 Mo."
        super().__init__("transaction-trop-volumineuse", detail, {"limiteOctets": TRANSACTION_LIMIT_BYTES})
        self.head, self.truncation = head, truncation


async def read_bounded(request: Request, limit: int) -> bytes:
    """The request body, read up to `limit` bytes: beyond (or announced beyond, then never read), `BodyTooLarge`."""
    declared = _declared_length(request)
    announced_over = declared is not None and declared > limit
    read = bytearray() if announced_over else await _read_up_to(request, limit)
    if announced_over or len(read) > limit:
        raise BodyTooLarge(limit, bytes(read[:HEAD_BYTES_KEPT]), Truncation.of(read, declared))
    return bytes(read)


async def _read_up_to(request: Request, limit: int) -> bytearray:
    """The body's bytes as they come, until the end or once more than `limit` were read."""
    read = bytearray()
    async for chunk in request.stream():
        read += chunk
        if len(read) > limit:
            break
    return read


def _declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


async def _authentication_refusal(request: Request, verifier: TokenVerifier | None) -> Problem | None:
    """The 401/403 problem of a call without a valid Bearer token bound to its certificate, else None."""
    if verifier is None:
        return None
    try:
        await verifier.verify(request.headers.get("authorization"), WRITE_RETURNS, peer_certificate(request.scope))
    except Problem as problem:
        return problem
    return None


def _faulted(call: ReceivedCall, fault: Fault) -> Response:
    if fault.kind == DROP:
        call.detail = "Panne simulée : connexion coupée sans réponse."
        return DroppedConnection()
    problem = fault_problem(fault)
    call.detail = problem.detail
    return problem.response()


def _judge(recorder: ReturnRecorder, call: ReceivedCall) -> Response:
    """Acknowledge the first return of a deposit and its redeliveries; refuse any other return (409)."""
    decision = recorder.decide(call.retour, call.received_at)
    if decision.accepted:
        call.redelivery = decision.verdict is Verdict.REDELIVERY
        call.ack_id = decision.ack.id_acquittement
        return JSONResponse(decision.ack.to_json(), 202)
    call.violations.append(decision.verdict.value)
    if decision.verdict is Verdict.MULTIPLE:
        call.detail = (
            f"Le dépôt {call.id_depot} a déjà un retour (idRetour {decision.ack.id_retour}) : "
            "un dépôt n'a qu'un seul retour."
        )
    else:
        call.detail = (
            f"Le retour {call.id_retour} a déjà été reçu avec un autre contenu : "
            "une nouvelle livraison doit être identique à la première."
        )
    extensions = {"idRetourRecu": decision.ack.id_retour, "violation": decision.verdict.value}
    return Problem("retour-deja-recu", call.detail, extensions).response()


async def _answer(request: Request, call: ReceivedCall, response: Response) -> Response:
    """Check the answer against the contract, record the call with it on disk, and only then hand it back."""
    dropped = isinstance(response, DroppedConnection)
    if not dropped:
        check_response(request, response)
    call.status = None if dropped else response.status_code
    await run_in_threadpool(state_of(request).recorder.record, call)
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's 404 and 405 (and any other HTTP error) as problem+json."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        detail = f"La méthode {request.method} n'est pas permise sur {request.url.path}."
        return Problem("methode-non-autorisee", detail, headers=headers).response()
    if exc.status_code == 404:
        return Problem("ressource-inconnue", f"Aucune ressource à l'adresse {request.url.path}.").response()
    return Problem("requete-invalide", str(exc.detail), headers=headers).response()


async def problem_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response()


async def internal_error(request: Request, exc: Exception) -> Response:
    """Log the error; answer a generic problem that shows nothing of it."""
    log.error("mock ASP callback failed on %s %s", request.method, request.url.path, exc_info=exc)
    return Problem("erreur-interne", INTERNAL_ERROR).response()


class CallbackApp(Starlette):
    """The Starlette application, which lets a `coupure` fault reach the connection's transport."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            expose_transport(scope, send)
        await super().__call__(scope, receive, send)


def create_app(
    recorder: ReturnRecorder,
    *,
    inspectors: Collection[str],
    mails: MailSource | None = None,
    verifier: TokenVerifier | None = None,
) -> Starlette:
    """The mock ASP callback API; `recorder` keeps what it receives, `mails` lists caught mails.

    `inspectors`: the thumbprints (`x5t#S256`) of the client certificates allowed on `/_inspection/…` (the
    recette team's); any other certificate, even of the same CA, gets 403. With a `verifier`, POST
    /v1/retours demands a Bearer token with `retours:ecrire`.
    """
    app = CallbackApp(
        routes=[Route("/v1/retours", receive_return, methods=["POST"]), *inspection.routes()],
        exception_handlers={HTTPException: http_error, Problem: problem_error, Exception: internal_error},
    )
    app.state.mock = MockState(recorder, FaultPlan(), frozenset(inspectors), mails, verifier)
    return app
