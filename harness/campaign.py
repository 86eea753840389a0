"""The recette campaign: deposits pieces through the ASP client, waits for each single return, checks it.

It only speaks the contracts (the ASP client and the mock callback's inspection), so it judges any
titulaire the same way. Each check gives a verdict and its evidence.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.client import AspClient, CallbackInspector, DepositBody, Document

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Page >> endobj\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000100000000808020000004b6d29dc")


@dataclass
class CheckResult:
    """The verdict of one check, with what was observed."""

    name: str
    passed: bool
    evidence: str


@dataclass
class Campaign:
    """Runs the checks of the API mode against one titulaire."""

    client: AspClient
    inspector: CallbackInspector
    limit_bytes: int
    return_timeout: float = 30.0
    results: list[CheckResult] = field(default_factory=list)
    _check_name: str = ""

    def run(self) -> list[CheckResult]:
        for check in self.checks():
            self._check_name = check.__doc__ or check.__name__
            try:
                check()
            except (httpx.HTTPError, TimeoutError, KeyError, ValueError, AssertionError) as error:
                self.record(False, f"{type(error).__name__}: {error}")
        return self.results

    def checks(self) -> Iterator[Callable[[], None]]:
        yield self.check_health
        yield self.check_initial_deposit
        yield self.check_complementary_deposit
        yield self.check_sae
        yield self.check_retransmission
        yield self.check_errors
        yield self.check_size_limit

    def record(self, passed: bool, evidence: str, aspect: str = "") -> None:
        """Record a verdict of the running check (`aspect` names a part of it)."""
        name = f"{self._check_name} — {aspect}" if aspect else self._check_name
        self.results.append(CheckResult(name, passed, evidence))

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    # -- checks --------------------------------------------------------------------------------------

    def check_health(self) -> None:
        """Le service répond à la supervision"""
        response = self.client.health()
        self.record(response.status_code == 200, f"GET /v1/sante → {response.status_code}")

    def check_initial_deposit(self) -> None:
        """Un dépôt initial reçoit 202, un idDepot unique et exactement un retour complet"""
        metadonnees = _metadonnees(numeroIteration=1, referenceContrat="CTR-2026-001")
        self._deposit_and_verify(metadonnees, [Document("avis.pdf", PDF, "application/pdf")])

    def check_complementary_deposit(self) -> None:
        """Un dépôt complémentaire (itération 2) est retourné avec son numéro d'itération"""
        self._deposit_and_verify(_metadonnees(numeroIteration=2), [Document("scan.png", PNG, "image/png")])

    def check_sae(self) -> None:
        """Option SAE : une empreinte concordante est acceptée, une empreinte fausse est refusée (422)"""
        digest = hashlib.sha256(PDF).hexdigest()
        good = _metadonnees(sae=True, empreinte={"algorithme": "SHA-256", "valeur": digest})
        self._deposit_and_verify(good, [Document("sae.pdf", PDF, "application/pdf")], "empreinte concordante")
        bad = _metadonnees(sae=True, empreinte={"algorithme": "SHA-256", "valeur": "0" * 64})
        response = self.client.deposit(bad, [Document("sae.pdf", PDF, "application/pdf")])
        self._expect_problem(response, 422, "empreinte-non-concordante", "empreinte fausse")

    def check_retransmission(self) -> None:
        """Une retransmission renvoie le même retour (même idRetour)"""
        id_depot = self._deposit_and_verify(_metadonnees(), [Document("r.pdf", PDF, "application/pdf")], "dépôt")
        first = self.inspector.wait_for_return(id_depot, self.return_timeout)[0]
        response = self.client.resend(id_depot)
        calls = self.inspector.wait_for_return(id_depot, self.return_timeout, count=2)
        same = calls[1].get("idRetour") == first.get("idRetour") and not calls[1]["violations"]
        evidence = f"POST retransmissions → {response.status_code}, livraisons reçues : {len(calls)}"
        self.record(response.status_code == 202 and same, evidence)

    def check_errors(self) -> None:
        """Les erreurs sont explicites : problem+json avec un code stable"""
        self._expect_problem(self.client.state(str(uuid.uuid4())), 404, "depot-inconnu", "dépôt inconnu")
        wrong_type = self.client.http.post("/v1/depots", content=b"{}", headers={"Content-Type": "application/json"})
        self._expect_problem(wrong_type, 415, "type-media-non-supporte", "type de média")
        invalid = self.client.deposit({"applicationSource": "RECETTE"}, [Document("a.pdf", PDF, "application/pdf")])
        self._expect_problem(invalid, 422, "metadonnees-invalides", "métadonnées")

    def check_size_limit(self) -> None:
        """Limite de 20 Mo : une transaction à la limite est acceptée, au-delà 413 et renvoi au mode dossier"""
        metadonnees = _metadonnees()
        size = self.client.body_size_for_transaction(self.limit_bytes, metadonnees)
        accepted = self.client.send_body(DepositBody.of_size(metadonnees, size))
        transaction = size + len(accepted.content)
        evidence = f"corps {size} o + réponse {len(accepted.content)} o = {transaction} o → {accepted.status_code}"
        self.record(accepted.status_code == 202 and transaction <= self.limit_bytes, evidence, "à la limite")
        refused = self.client.send_body(DepositBody.of_size(metadonnees, size + 1))
        self._expect_problem(refused, 413, "transaction-trop-volumineuse", "un octet au-delà")

    # -- helpers -------------------------------------------------------------------------------------

    def _deposit_and_verify(self, metadonnees: dict[str, Any], documents: list[Document], aspect: str = "") -> str:
        response = self.client.deposit(metadonnees, documents)
        if response.status_code != 202:
            raise AssertionError(f"dépôt refusé : POST /v1/depots → {response.status_code} {response.text[:300]}")
        id_depot = response.json()["idDepot"]
        uuid.UUID(id_depot)
        calls = self.inspector.wait_for_return(id_depot, self.return_timeout)
        problems = verify_return(calls, id_depot, metadonnees, documents)
        evidence = f"idDepot {id_depot}, Location {response.headers.get('location')}, retours reçus : {len(calls)}"
        self.record(not problems, "; ".join([evidence, *problems]), aspect)
        return id_depot

    def _expect_problem(self, response: httpx.Response, status: int, code: str, aspect: str = "") -> None:
        got = response.json().get("code") if _is_problem(response) else None
        passed = response.status_code == status and got == code
        self.record(passed, f"attendu {status} {code}, obtenu {response.status_code} {got}", aspect)


def verify_return(
    calls: list[dict[str, Any]], id_depot: str, metadonnees: dict[str, Any], documents: list[Document]
) -> list[str]:
    """What is wrong with the returns received for a deposit (empty when it is exactly right)."""
    problems: list[str] = []
    accepted = [c for c in calls if c.get("idAcquittement") and not c["redelivery"]]
    if len(accepted) != 1:
        problems.append(f"{len(accepted)} retour(s) acquitté(s) au lieu d'exactement un")
    problems += [f"violation : {v}" for c in calls for v in c["violations"]]
    if not accepted:
        return problems
    retour = accepted[0]["retour"]
    if retour["idDepot"] != id_depot:
        problems.append("idDepot différent")
    if retour["metadonnees"] != metadonnees:
        problems.append(f"métadonnées modifiées : {retour['metadonnees']} au lieu de {metadonnees}")
    digests = [p["empreinte"]["valeur"] for p in retour["pieces"]]
    if digests != [hashlib.sha256(d.content).hexdigest() for d in documents]:
        problems.append("empreintes des pièces différentes des documents déposés")
    return problems


def _metadonnees(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "applicationSource": "RECETTE-HARNAIS",
        "identifiantDossier": f"DOS-{uuid.uuid4().hex[:12].upper()}",
        "numeroIteration": 1,
        "donneesMetier": {"typePiece": "justificatif", "montant": 1250.5},
    }
    return base | fields


def _is_problem(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/problem+json")
