"""Errors on the wire: RFC 9457 `application/problem+json` with a stable machine-readable `code`.

Every error answered by the reference titulaire and by the mocks goes through `Problem`. The catalogue
below is the single list of codes; the contracts document the same codes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://recette.asp.example/problemes/"
DRAIN_HOOK = "recette.unread_body"
"""Key in `scope["state"]` of the `UnreadBody` of the request, when a middleware tracks it."""

CATALOGUE: dict[str, tuple[int, str]] = {
    "requete-invalide": (400, "Requête invalide"),
    "parametre-invalide": (400, "Paramètre invalide"),
    "authentification-requise": (401, "Authentification requise"),
    "jeton-invalide": (401, "Jeton d'accès invalide"),
    "droits-insuffisants": (403, "Droits insuffisants"),
    "acces-reserve-recette": (403, "Accès réservé à l'équipe de recette"),
    "ressource-inconnue": (404, "Ressource inconnue"),
    "depot-inconnu": (404, "Dépôt inconnu"),
    "methode-non-autorisee": (405, "Méthode non autorisée"),
    "cle-idempotence-reutilisee": (409, "Clé d'idempotence réutilisée avec un autre contenu"),
    "retour-deja-recu": (409, "Un autre retour a déjà été reçu pour ce dépôt"),
    "retour-non-disponible": (409, "Le retour de ce dépôt n'est pas encore produit"),
    "depot-expire": (410, "Dépôt expiré"),
    "version-retiree": (410, "Version de l'API retirée"),
    "transaction-trop-volumineuse": (413, "Transaction trop volumineuse"),
    "type-media-non-supporte": (415, "Type de média non supporté"),
    "metadonnees-invalides": (422, "Métadonnées invalides"),
    "empreinte-non-concordante": (422, "Empreinte non concordante"),
    "retour-invalide": (422, "Retour non conforme au contrat"),
    "trop-de-requetes": (429, "Trop de requêtes"),
    "erreur-interne": (500, "Erreur interne"),
    "service-indisponible": (503, "Service indisponible"),
}


@dataclass
class Problem(Exception):
    """An error to answer as problem+json. `code` is a key of `CATALOGUE`."""

    code: str
    detail: str
    extensions: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CATALOGUE:
            raise ValueError(f"unknown problem code {self.code!r}")
        super().__init__(self.detail)

    @property
    def status(self) -> int:
        return CATALOGUE[self.code][0]

    def body(self, instance: str | None = None) -> dict[str, Any]:
        status, title = CATALOGUE[self.code]
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": title,
            "status": status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        return body | self.extensions

    def response(self, instance: str | None = None) -> ProblemResponse:
        return ProblemResponse(self.body(instance), self.status, self.headers)


class ProblemResponse(Response):
    """A problem+json response that never leaves a client with a connection reset.

    When the request body has not been read to its end (the answer comes early: too large, wrong media
    type, too many requests), the response is sent in full, then the rest of the body is read and
    discarded within the bounds of the drain hook installed by the transaction-limit middleware, and
    only then is the response completed (a lingering close, as nginx does).
    """

    media_type = PROBLEM_MEDIA_TYPE

    def __init__(self, body: Mapping[str, Any], status_code: int, headers: Mapping[str, str]) -> None:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        super().__init__(content, status_code, dict(headers), PROBLEM_MEDIA_TYPE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body_drain: UnreadBody | None = scope.get("state", {}).get(DRAIN_HOOK)
        if body_drain is None or not body_drain.pending:
            await super().__call__(scope, receive, send)
            return
        headers = [*self.raw_headers, (b"connection", b"close")]
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": True})
        await body_drain.discard()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class UnreadBody(Protocol):
    """What the transaction-limit middleware knows of a request body the application did not read."""

    @property
    def pending(self) -> bool:
        """True when the client is (or may be) still sending body bytes nobody will read."""

    async def discard(self) -> None:
        """Read and discard the rest of the body, within a bounded time and byte count."""
