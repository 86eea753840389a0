"""The fault plug-in protocol: hook methods the reference calls at fixed points, each a no-op by default.

A fault (défaut volontaire) overrides the hooks it needs; the reference holds the armed faults in a
`FaultSet` and passes every value through `FaultSet.apply(Fault.<hook>, value, …)`. With no fault armed,
every hook hands its value back unchanged. In the spirit of mitmproxy's addons.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, ParamSpec, TypeVar

from harness.foundations.problems import Problem

if TYPE_CHECKING:
    import httpx

    from harness.foundations.token_verifier import TokenVerifier
    from harness.reference.lifecycle import Lifecycle
    from harness.reference.service import RunTags
    from harness.reference.settings import RetryPolicy

T = TypeVar("T")
P = ParamSpec("P")
Json = dict[str, Any]


@dataclass
class Answer:
    """A JSON answer on its way out: its status, body and headers (a fault may change any of them)."""

    status: int
    body: Json
    headers: dict[str, str] = field(default_factory=dict)


class Fault:
    """A deliberate defect of the reference: a name, a French description, and the hooks it overrides."""

    name: ClassVar[str]
    description: ClassVar[str]
    """What the defect does, in French (shown by `recette run --help` and in the README)."""

    # -- the API's transport (service.py `Titulaire.server_context`) ---------------------------------

    def server_tls(self, context: ssl.SSLContext) -> ssl.SSLContext:
        """The TLS context the API listens with: its protocol versions and its client-certificate checks."""
        return context

    # -- the API's answers (app.py, lifecycle.py) ----------------------------------------------------

    def deposit_answer(self, answer: Answer) -> Answer:
        """The 202 AccuseReception of a deposit (POST /v{1,2}/depots)."""
        return answer

    def health_answer(self, body: Json) -> Json:
        """The body of GET /v{1,2}/sante."""
        return body

    def state_answer(self, body: Json, path: str) -> Json:
        """The EtatDepot of GET `path`, in the model of the version called."""
        return body

    def resend_answer(self, body: Json) -> Json:
        """The 202 of a retransmission request."""
        return body

    def refusal(self, problem: Problem, path: str) -> Problem:
        """The problem a request on `path` is refused with."""
        return problem

    def problem_body(self, body: Json) -> Json:
        """The problem+json body of any refusal."""
        return body

    def transaction_limit(self, limit_bytes: int) -> int:
        """The limit of a full transaction the API enforces."""
        return limit_bytes

    def refuse_on_declared_size(self, refused: bool) -> bool:
        """Whether a declared Content-Length over the limit is refused before the body is read."""
        return refused

    def token_verifier(self, verifier: TokenVerifier | None) -> TokenVerifier | None:
        """The Bearer token check of the API (None: no token check)."""
        return verifier

    def lifecycles(self, lifecycles: dict[str, Lifecycle]) -> dict[str, Lifecycle]:
        """Each served major's deprecation and end of life."""
        return lifecycles

    def deprecation_headers(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The headers a deprecated major adds to its answers."""
        return headers

    # -- the service (service.py, incidents.py) ------------------------------------------------------

    def idempotency_key(self, key: str | None) -> str | None:
        """The Idempotency-Key a deposit is recorded with."""
        return key

    def run_tags(self, tags: RunTags) -> RunTags:
        """The billing tags a deposit is recorded with."""
        return tags

    def billed_bytes(self, body_bytes: int, document_bytes: int) -> int:
        """The size a deposit is recorded (and billed) with."""
        return body_bytes

    def retained_until(self, until: datetime, received_at: datetime) -> datetime:
        """The end of a deposit's retention."""
        return until

    def retry_policy(self, policy: RetryPolicy) -> RetryPolicy:
        """How returns are retried towards the ASP's callback API."""
        return policy

    def callback_auth(self, auth: httpx.Auth | None) -> httpx.Auth | None:
        """How returns are authenticated towards the ASP's callback API (its Bearer tokens)."""
        return auth

    def incident_deposit(self, deposit_id: str | None) -> str | None:
        """The deposit an incident ticket is recorded for."""
        return deposit_id

    def incident_mail(self, message: EmailMessage) -> EmailMessage:
        """The alert mail of an incident, before it is sent."""
        return message

    # -- the return (worker.py, outbox.py) -----------------------------------------------------------

    def return_built(self, payload: Json) -> Json:
        """A deposit's return, as the worker stores it."""
        return payload

    def outgoing(self, payload: Json, redelivery: bool) -> Json:
        """A return as the outbox sends it (`redelivery`: a retransmission of an acknowledged return)."""
        return payload

    def delivery_delay(self, seconds: float) -> float:
        """How long the outbox waits before delivering a return (none by default)."""
        return seconds

    def before_delivery(self, payload: Json) -> list[Json]:
        """Other returns sent before it (whatever the ASP answers them)."""
        return []

    def after_delivery(self, payload: Json) -> list[Json]:
        """Other returns sent once it is acknowledged (whatever the ASP answers them)."""
        return []

    # -- the archive mode (archives/, return_channels.py) -----------------------------------

    def archive_notice(self, notice: Json) -> Json:
        """An archive's reception notice, as it is recorded and published."""
        return notice

    def archive_refusal(self, code: str, archive: Path, destination: Path) -> str:
        """The reason (code) an unsafe archive is refused with, before `archive` (the file received) and
        `destination` (its working folder) are removed."""
        return code

    def return_channel(self, channel: str) -> str:
        """The channel a return of an archive takes when the archive channel is agreed (`api`, `archive`)."""
        return channel

    def return_archive(self, content: bytes) -> bytes:
        """A return archive as it is published in `sortant/` (canal archive de retour)."""
        return content

    def remove_acknowledgement(self, remove: bool) -> bool:
        """Whether the ASP's acknowledgement of a return archive is removed from `entrant/` once read."""
        return remove


class FaultSet:
    """The armed faults, applied in order at each hook; empty, it changes nothing."""

    def __init__(self, faults: Sequence[Fault] = ()) -> None:
        self._faults = tuple(faults)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(fault.name for fault in self._faults)

    def apply(self, hook: Callable[Concatenate[Fault, T, P], T], value: T, *args: P.args, **kwargs: P.kwargs) -> T:
        """`value` passed through `hook` of every armed fault (each one's own override, by name)."""
        for fault in self._faults:
            value = getattr(fault, hook.__name__)(value, *args, **kwargs)
        return value

    def gather(self, hook: Callable[Concatenate[Fault, P], list[T]], *args: P.args, **kwargs: P.kwargs) -> list[T]:
        """What `hook` of every armed fault adds, in order."""
        return [item for fault in self._faults for item in getattr(fault, hook.__name__)(*args, **kwargs)]
