"""The inspection routes of the mock ASP callback (`/_inspection/…`), for tests, scripts and recette teams.

- `GET|DELETE /_inspection/retours[?idDepot=…]`: the journal of calls received (retours reçus);
- `GET|POST|DELETE /_inspection/pannes`: the armed faults (pannes);
- `GET /_inspection/courriels`: the mails caught by the SMTP catcher.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.foundations.problems import Problem
from mocks.asp.faults import parse_fault
from mocks.asp.state import MockState


def _state(request: Request) -> MockState:
    return request.app.state.mock


async def list_calls(request: Request) -> Response:
    """Every call to POST /v1/retours the journal keeps, oldest first; `?idDepot=` keeps one deposit's.

    The journal is bounded: `X-Journal-Entrees` says how many calls it holds, `X-Journal-Oubliees` how
    many older ones it forgot.
    """
    recorder = _state(request).recorder
    headers = {"X-Journal-Entrees": str(recorder.size()), "X-Journal-Oubliees": str(recorder.forgotten)}
    return JSONResponse(recorder.entries(request.query_params.get("idDepot")), headers=headers)


async def clear_calls(request: Request) -> Response:
    _state(request).recorder.clear()
    return Response(status_code=204)


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
    return [
        Route("/_inspection/retours", list_calls, methods=["GET"]),
        Route("/_inspection/retours", clear_calls, methods=["DELETE"]),
        Route("/_inspection/pannes", list_faults, methods=["GET"]),
        Route("/_inspection/pannes", arm_fault, methods=["POST"]),
        Route("/_inspection/pannes", clear_faults, methods=["DELETE"]),
        Route("/_inspection/courriels", list_mails, methods=["GET"]),
    ]
