"""Deprecation and end of life of a major, as `versions.yaml` plans them and the injected clock tells.

Once a major is deprecated every answer it gives carries `Deprecation` (RFC 9745), `Sunset` (RFC 8594)
and `Link`s to its successor route and to the migration guide; after its end of life it answers 410
`version-retiree` (problem+json) on every route: its contract, which announces this in its description,
no longer applies, so the retired answers are outside the contract audit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.foundations.calendar import Calendar, load_calendar, parse_version
from harness.foundations.clock import Clock
from harness.foundations.contracts import TITULAIRE_VERSIONS, contract_path
from harness.foundations.problems import Problem, ProblemResponse
from harness.reference.faults.base import Fault, FaultSet
from harness.reference.versions import LATEST, RELEASES, prefix_of, successor_path

MIGRATION_GUIDE = f"{LATEST}/migration"
"""Where the reference serves the migration guide (`rel="deprecation"`)."""


@dataclass(frozen=True)
class Lifecycle:
    """When a major is deprecated (dépréciée) and retired (fin de vie); None: not planned."""

    deprecated: datetime | None = None
    sunset: datetime | None = None

    def headers(self, path: str) -> list[tuple[str, str]]:
        """The deprecation headers of an answer on `path` (percent-encoded: see `request_path`)."""
        headers = [("Link", f'<{successor_path(path)}>; rel="successor-version"')]
        headers.append(("Link", f'<{MIGRATION_GUIDE}>; rel="deprecation"'))
        if self.deprecated is not None:
            headers.append(("Deprecation", f"@{int(self.deprecated.timestamp())}"))
        if self.sunset is not None:
            headers.append(("Sunset", format_datetime(self.sunset, usegmt=True)))
        return headers


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), UTC) if day is not None else None


def lifecycle_of(calendar: Calendar, release: str) -> Lifecycle:
    """The lifecycle of the major of `release`: its latest version's dates, deprecated at the latest when the
    next major is published."""
    version = parse_version(release)
    assert version is not None, release
    return Lifecycle(_midnight(calendar.deprecated_on(version.major)), _midnight(calendar.end_of(version.major)))


def planned_lifecycles() -> dict[str, Lifecycle]:
    """Path prefix of each served major → its lifecycle, from `contracts/titulaire/versions.yaml`."""
    calendar = load_calendar(contract_path(TITULAIRE_VERSIONS))
    return {prefix: lifecycle_of(calendar, release) for prefix, release in RELEASES.items()}


def request_path(scope: Scope) -> str:
    """The request's path as the client sent it (`raw_path`), percent-encoded: safe inside a header.

    The decoded `path` may hold any character (`%E2%82%AC` is `€`, which latin-1 headers cannot carry) and
    `>` or `;` that would end the `Link` target early; the raw bytes are quoted, existing escapes kept.
    """
    raw = scope.get("raw_path") or scope["path"].encode()
    return _LONE_PERCENT.sub("%25", quote(raw, safe="/%"))


_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class VersionLifecycle:
    """ASGI middleware: deprecation headers on a deprecated major's answers, 410 once it is retired."""

    def __init__(
        self, app: ASGIApp, clock: Clock, lifecycles: dict[str, Lifecycle], faults: FaultSet | None = None
    ) -> None:
        self.app = app
        self.clock = clock
        self.lifecycles = lifecycles
        self.faults = faults or FaultSet()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lifecycle = self.lifecycles.get(prefix_of(scope["path"])) if scope["type"] == "http" else None
        now = self.clock()
        if lifecycle is None or lifecycle.deprecated is None or now < lifecycle.deprecated:
            await self.app(scope, receive, send)
            return
        path = request_path(scope)
        headers = self.faults.apply(Fault.deprecation_headers, lifecycle.headers(path))
        if lifecycle.sunset is not None and now >= lifecycle.sunset:
            await retired(path, headers)(scope, receive, send)
            return

        async def deprecated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                mutable = MutableHeaders(scope=message)
                for name, value in headers:
                    mutable.append(name, value)
            await send(message)

        await self.app(scope, receive, deprecated_send)


def retired(path: str, headers: list[tuple[str, str]]) -> ProblemResponse:
    """410 `version-retiree`: the retired route's successor is in the body and in the headers."""
    successor = successor_path(path)
    detail = f"Cette version de l'API est retirée : utiliser {successor} (guide de migration : {MIGRATION_GUIDE})."
    response = Problem("version-retiree", detail, {"successeur": successor}).response(path)
    for name, value in headers:
        response.headers.append(name, value)
    return response
