"""The inspection routes of the mock ASP callback (`/_inspection/…`): the recette team's window.

- `GET /_inspection/retours[?idDepot=…][&tout=1]`: the calls received (retours reçus) since the latest mark,
  or all of them with `tout=1`; `DELETE /_inspection/retours` sets a mark (nothing is erased);
- `GET /_inspection/empreinte`: the SHA-256 of the journal file, its lines and bytes;
- `GET|POST|DELETE /_inspection/pannes`: the armed faults (pannes);
- `GET /_inspection/courriels`: the mails caught by the SMTP catcher.

Every route demands the recette team's identity: a client certificate whose thumbprint is pinned in
`MockState.inspectors` (never a CA or a name alone: the titulaire's CA could issue any name). Anyone else
gets 403 `acces-reserve-recette`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.foundations.problems import Problem
from harness.foundations.tls import certificate_thumbprint
from harness.foundations.tls_scope import peer_certificate
from mocks.asp.faults import parse_fault
from mocks.asp.state import MockState

Endpoint = Callable[[Request], Awaitable[Response]]
RESERVED = "Les routes d'inspection sont réservées à l'équipe de recette (certificat client épinglé)."


def _state(request: Request) -> MockState:
    return request.app.state.mock


def recette_only(endpoint: Endpoint) -> Endpoint:
    """`endpoint`, answered only to a client certificate pinned as the recette team's; others get 403."""

    async def guarded(request: Request) -> Response:
        certificate = peer_certificate(request.scope)
        if certificate is None or certificate_thumbprint(certificate) not in _state(request).inspectors:
            raise Problem("acces-reserve-recette", RESERVED)
        return await endpoint(request)

    return guarded


async def list_calls(request: Request) -> Response:
    """The calls to POST /v1/retours since the latest mark (`?tout=1`: all), oldest first; `?idDepot=` keeps
    one deposit's.

    The view in memory is bounded: `X-Journal-Entrees` says how many calls it holds, `X-Journal-Oubliees`
    how many older ones it dropped (the journal file keeps them all).
    """
    recorder, query = _state(request).recorder, request.query_params
    headers = {"X-Journal-Entrees": str(recorder.size()), "X-Journal-Oubliees": str(recorder.forgotten)}
    everything = query.get("tout", "") in ("1", "true", "oui")
    return JSONResponse(recorder.entries(query.get("idDepot"), everything), headers=headers)


async def clear_calls(request: Request) -> Response:
    """Mark the journal: later GETs show the calls received after this mark (nothing is erased)."""
    await run_in_threadpool(_state(request).recorder.clear)
    return Response(status_code=204)


async def journal_digest(request: Request) -> Response:
    """The empreinte of the journal file (SHA-256, lines, bytes), as the reports cite it."""
    recorder = _state(request).recorder
    digest = await run_in_threadpool(recorder.digest)
    return JSONResponse(digest.to_json() | {"lignesIllisibles": recorder.unreadable_lines})


async def list_faults(request: Request) -> Response:
    return JSONResponse(_state(request).faults.armed())


async def arm_fault(request: Request) -> Response:
    """Arm a fault: {"type": …, "nombre": N, "delaiSecondes": s}; answers the faults now armed."""
    try:
        payload = json.loads(await request.body())
    except ValueError as error:
        raise Problem("requete-invalide", "Le corps n'est pas du JSON lisible.") from error
    faults = _state(request).faults
    faults.arm(parse_fault(payload))
    return JSONResponse(faults.armed(), 201)


async def clear_faults(request: Request) -> Response:
    _state(request).faults.clear()
    return Response(status_code=204)


async def list_mails(request: Request) -> Response:
    """The mails caught by the SMTP catcher (courriels d'incident), oldest first."""
    mails = _state(request).mails
    return JSONResponse([mail.to_json() for mail in mails()] if mails else [])


def routes() -> list[Route]:
    table: list[tuple[str, Endpoint, str]] = [
        ("/_inspection/retours", list_calls, "GET"),
        ("/_inspection/retours", clear_calls, "DELETE"),
        ("/_inspection/empreinte", journal_digest, "GET"),
        ("/_inspection/pannes", list_faults, "GET"),
        ("/_inspection/pannes", arm_fault, "POST"),
        ("/_inspection/pannes", clear_faults, "DELETE"),
        ("/_inspection/courriels", list_mails, "GET"),
    ]
    return [Route(path, recette_only(endpoint), methods=[method]) for path, endpoint, method in table]
