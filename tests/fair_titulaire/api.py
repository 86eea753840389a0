"""The titulaire API (contracts/titulaire/v1): deposit, state, retransmission and health, each authorised.

Where a deposit is accepted: `Api.deposit`. The 20 MB rule counts the request body plus our receipt: a
declared size beyond it is refused before any byte of the body is read, a chunked body as soon as it
passes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import yaml

from tests.fair_titulaire.bearer import BearerVerifier
from tests.fair_titulaire.delivery import Courier
from tests.fair_titulaire.form import DepositForm
from tests.fair_titulaire.problems import PROBLEM_TYPE, Refusal
from tests.fair_titulaire.records import CONTRACT, Deposit, Store, metadata_validator, now
from tests.fair_titulaire.variations import Variation
from tests.fair_titulaire.wire import Answer, Exchange

log = logging.getLogger(__name__)
WRITE, READ = "depots:ecrire", "depots:lire"
DEPOSITS = "/v1/depots"
STATE = re.compile(r"^/v1/depots/([^/]+)$")
RESEND = re.compile(r"^/v1/depots/([^/]+)/retransmissions$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ZERO_DIGEST = "0" * 64


def contract_info() -> tuple[str, int]:
    """The contract's version and its transaction limit (`x-limite-transaction-octets`)."""
    info = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))["info"]
    return str(info["version"]), int(info["x-limite-transaction-octets"])


class Api:
    """Routes a request to its operation; any refusal becomes a problem+json answer."""

    def __init__(
        self, verifier: BearerVerifier, store: Store, courier: Courier, variation: Variation, retention: timedelta
    ) -> None:
        self.verifier = verifier
        self.store = store
        self.courier = courier
        self.variation = variation
        self.retention = retention
        self.version, self.limit = contract_info()
        self.validator = metadata_validator()

    def __call__(self, exchange: Exchange) -> Answer:
        try:
            answer = self._route(exchange)
        except Refusal as refusal:
            answer = self._problem(refusal)
        except Exception:  # a bug of ours: logged, never shown
            log.exception("erreur interne sur %s %s", exchange.method, exchange.path)
            answer = self._problem(Refusal(500, "erreur-interne", "Erreur interne ; elle est consignée."))
        if not exchange.consumed and answer.status != 413:
            exchange.drain(self.limit)
        answer.headers |= self.variation.headers()
        return answer

    def _route(self, exchange: Exchange) -> Answer:
        path, method = exchange.path.rstrip("/") or "/", exchange.method
        routes: list[tuple[Callable[[str], Any], str, Callable[..., Answer]]] = [
            (lambda p: p == DEPOSITS or None, "POST", lambda _: self.deposit(exchange)),
            (lambda p: p == "/v1/sante" or None, "GET", lambda _: self.health(exchange)),
            (STATE.match, "GET", lambda m: self.state(exchange, m.group(1))),
            (RESEND.match, "POST", lambda m: self.resend(exchange, m.group(1))),
        ]
        matched = [(match, allowed, operation) for test, allowed, operation in routes if (match := test(path))]
        for match, allowed, operation in matched:
            if allowed == method:
                return operation(match)
        if matched:
            allow = ", ".join(allowed for _, allowed, _ in matched)
            raise Refusal(405, "methode-non-autorisee", f"Méthode {method} non permise.", headers={"Allow": allow})
        raise Refusal(404, "ressource-inconnue", "Aucune ressource à cette adresse.")

    # -- operations ----------------------------------------------------------------------------------

    def health(self, exchange: Exchange) -> Answer:
        self._authorise(exchange, READ)
        return self._json(200, {"statut": "OK", "version": self.version})

    def deposit(self, exchange: Exchange) -> Answer:
        self._authorise(exchange, WRITE)
        declared = exchange.declared_length()
        if declared is not None and declared + self._receipt_length(declared) > self.limit:
            raise self._too_large()
        form = DepositForm(exchange.headers.get("Content-Type", ""))
        size = 0
        for chunk in exchange.chunks():
            size += len(chunk)
            if size + self._receipt_length(size) > self.limit:
                raise self._too_large()
            form.write(chunk)
        form.finish()
        metadata = self._valid_metadata(form.metadata(), form.digest.hexdigest())
        pieces = [
            {
                "uid": str(uuid.uuid4()),
                "nom": d.name,
                "typeDetecte": d.detected_type(),
                "tailleOctets": d.size,
                "empreinte": {"algorithme": "SHA-256", "valeur": d.sha256.hexdigest()},
                "donneesExtraites": {},
                "controles": [{"code": "lisibilite", "libelle": "Document lisible", "resultat": "CONFORME"}],
            }
            for d in form.documents
        ]
        fingerprint = hashlib.sha256(
            json.dumps([metadata, [(p["nom"], p["empreinte"]["valeur"]) for p in pieces]], sort_keys=True).encode()
        ).hexdigest()
        return self._accept(exchange.headers.get("Idempotency-Key"), fingerprint, metadata, pieces, size, form)

    def state(self, exchange: Exchange, id_depot: str) -> Answer:
        self._authorise(exchange, READ)
        deposit = self._kept(id_depot)
        instant = self.variation.instant
        with self.store.lock:
            state: dict[str, Any] = {
                "idDepot": deposit.id,
                "statut": deposit.status,
                "recuLe": instant(deposit.received_at),
                "metadonnees": deposit.metadata,
                "historique": [{"statut": s, "horodatage": instant(at)} for s, at in deposit.history],
                "conserveJusquau": instant(deposit.kept_until),
            }
            if deposit.retour is not None:
                state["retour"] = {
                    "idRetour": deposit.id_retour,
                    "statut": "TRAITE",
                    "tentatives": deposit.attempts,
                    **(deposit.ack or {}),
                }
        return self._json(200, state)

    def resend(self, exchange: Exchange, id_depot: str) -> Answer:
        self._authorise(exchange, WRITE)
        deposit = self._kept(id_depot)
        if deposit.retour is None:
            raise Refusal(409, "retour-non-disponible", "Le retour de ce dépôt n'est pas encore produit.")
        self.courier.redeliver(deposit)
        planned = {"idDepot": deposit.id, "idRetour": deposit.id_retour, "demandeeLe": self.variation.instant(now())}
        return self._json(202, planned, {"Location": f"{DEPOSITS}/{deposit.id}"})

    # -- helpers -------------------------------------------------------------------------------------

    def _authorise(self, exchange: Exchange, scope: str) -> None:
        self.verifier.check(exchange.headers.get("Authorization"), scope, exchange.peer_der)

    def _valid_metadata(self, metadata: dict[str, Any], digest: str) -> dict[str, Any]:
        errors = sorted(self.validator.iter_errors(metadata), key=lambda e: list(e.absolute_path))
        if errors:
            detail = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or 'metadonnees'} : {e.message}" for e in errors)
            raise Refusal(422, "metadonnees-invalides", detail[:500])
        if metadata.get("sae") and metadata["empreinte"]["valeur"] != digest:
            raise Refusal(422, "empreinte-non-concordante", "L'empreinte ne concorde pas avec les documents.")
        if self.variation.defaults_written:
            metadata = {"sae": False} | metadata
        return metadata

    def _accept(
        self,
        key: str | None,
        fingerprint: str,
        metadata: dict[str, Any],
        pieces: list[dict[str, Any]],
        size: int,
        form: DepositForm,
    ) -> Answer:
        with self.store.lock:
            if key is not None and key in self.store.keys:
                known, receipt = self.store.keys[key]
                if known != fingerprint:
                    raise Refusal(409, "cle-idempotence-reutilisee", "Cette clé a servi pour un autre contenu.")
                return self._receipt_answer(receipt)
            deposit = Deposit(metadata, pieces, self.retention)
            receipt = self._receipt(deposit.id, size, form.digest.hexdigest(), deposit)
            if key is not None:
                self.store.keys[key] = (fingerprint, receipt)
            self.store.add(deposit)
        self.courier.process(deposit)
        return self._receipt_answer(receipt)

    def _receipt(self, id_depot: str, size: int, digest: str, deposit: Deposit | None = None) -> bytes:
        received = deposit.received_at if deposit else now()
        return self.variation.dumps(
            {
                "idDepot": id_depot,
                "statut": "RECU",
                "recuLe": self.variation.instant(received),
                "tailleOctets": size,
                "empreinte": {"algorithme": "SHA-256", "valeur": digest},
            }
        )

    def _receipt_length(self, size: int) -> int:
        return len(self._receipt(str(uuid.UUID(int=0)), size, ZERO_DIGEST))

    def _receipt_answer(self, receipt: bytes) -> Answer:
        id_depot = json.loads(receipt)["idDepot"]
        headers = {"Content-Type": "application/json", "Location": f"{DEPOSITS}/{id_depot}"}
        return Answer(202, receipt, headers)

    def _kept(self, id_depot: str) -> Deposit:
        if not UUID.match(id_depot):
            raise Refusal(400, "parametre-invalide", "idDepot est un UUID.")
        deposit = self.store.get(id_depot)
        if deposit is None:
            raise Refusal(404, "depot-inconnu", "Aucun dépôt de cet identifiant.")
        if deposit.expired():
            raise Refusal(410, "depot-expire", "La durée de conservation de ce dépôt est écoulée.")
        return deposit

    def _too_large(self) -> Refusal:
        return Refusal(
            413,
            "transaction-trop-volumineuse",
            f"La transaction dépasserait {self.limit} octets : utiliser le mode dossier (archives sur SFTP).",
            {"limiteOctets": self.limit},
        )

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> Answer:
        return Answer(status, self.variation.dumps(value), {"Content-Type": "application/json", **(headers or {})})

    def _problem(self, refusal: Refusal) -> Answer:
        body = self.variation.dumps(refusal.body(self.variation.reworded))
        return Answer(refusal.status, body, {"Content-Type": PROBLEM_TYPE, **refusal.headers})
