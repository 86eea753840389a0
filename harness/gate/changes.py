"""Changes between two contracts: their effect, the direction of the message, and the resulting level.

A detector states what a change *does* to the set of valid messages (its `Effect`); the `Scope` says who
writes that message. The consumer is the client of the API (the ASP for the titulaire contract), the
provider is its author. Tightening what the consumer writes breaks it (its messages get refused);
loosening what the provider writes breaks it too (it may receive what it cannot handle). In a callback
the provider sends the request and the consumer answers it, so the roles are swapped.

| effect     | consumer writes (request; callback response) | provider writes (response; callback request) |
| ---------- | -------------------------------------------- | -------------------------------------------- |
| TIGHTEN    | breaking                                      | non-breaking                                  |
| LOOSEN     | non-breaking                                  | breaking                                      |
| BREAKING   | breaking                                      | breaking                                      |
| COMPATIBLE | non-breaking                                  | non-breaking                                  |
| INFO       | info                                          | info                                          |

Change ids are stable. Schema and media-type ids end in `-requete` or `-reponse` (the kind of HTTP
message, as written in the contract: a callback's request body gives `…-requete`); their level follows the
table above, so the same id can be breaking in a response and not in a callback, and the message says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Literal

from harness.foundations.document import Place

Kind = Literal["requete", "reponse"]


class Level(StrEnum):
    BREAKING = "breaking"
    NON_BREAKING = "non-breaking"
    INFO = "info"


class Effect(Enum):
    """What a change does to the set of messages the contract accepts."""

    TIGHTEN = "restreint"
    LOOSEN = "élargit"
    BREAKING = "cassant"
    COMPATIBLE = "compatible"
    INFO = "information"


@dataclass(frozen=True)
class Scope:
    """Where a change sits: an HTTP request or response, in a callback or not."""

    kind: Kind
    callback: bool = False

    @property
    def consumer_writes(self) -> bool:
        """True when the API's consumer writes this message (a request, or a callback's response)."""
        return (self.kind == "requete") != self.callback

    @property
    def subject(self) -> str:
        return {
            ("requete", False): "la requête, écrite par le consommateur",
            ("reponse", False): "la réponse, écrite par le fournisseur",
            ("requete", True): "la requête de callback, écrite par le fournisseur (rôles inversés)",
            ("reponse", True): "la réponse de callback, écrite par le consommateur (rôles inversés)",
        }[(self.kind, self.callback)]


REQUEST = Scope("requete")


@dataclass(frozen=True)
class Change:
    """One difference between the base and the revision; `place` is the file, line and column of its node (in
    the revision, or in the base for what was removed)."""

    id: str
    level: Level
    location: str
    message: str
    place: Place | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "level": self.level.value, "location": self.location, "message": self.message}


def level_of(effect: Effect, scope: Scope) -> Level:
    """The level of a change with this effect, given who writes the message."""
    if effect is Effect.TIGHTEN:
        return Level.BREAKING if scope.consumer_writes else Level.NON_BREAKING
    if effect is Effect.LOOSEN:
        return Level.NON_BREAKING if scope.consumer_writes else Level.BREAKING
    return {Effect.BREAKING: Level.BREAKING, Effect.COMPATIBLE: Level.NON_BREAKING}.get(effect, Level.INFO)


def impact(effect: Effect, scope: Scope) -> str:
    """A French clause explaining why a tightening or loosening has its level here."""
    if effect is Effect.TIGHTEN:
        tail = "des messages jusqu'ici conformes ne le sont plus" if scope.consumer_writes else "sans risque"
        return f"restreint {scope.subject} : {tail}"
    if effect is Effect.LOOSEN:
        tail = "compatible" if scope.consumer_writes else "le consommateur peut recevoir ce qu'il n'attend pas"
        return f"élargit {scope.subject} : {tail}"
    return ""


def make_change(
    base_id: str, effect: Effect, scope: Scope, location: str, text: str, *, directional: bool, place: Place | None
) -> Change:
    """A change; `directional` ids get the `-requete`/`-reponse` suffix."""
    change_id = f"{base_id}-{scope.kind}" if directional else base_id
    why = impact(effect, scope)
    message = f"{text} — {why}." if why else f"{text}."
    return Change(change_id, level_of(effect, scope), location, message, place)
