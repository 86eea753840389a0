"""Steps of `dossiers.feature`: the harness plays the ASP on its deposit server (it puts archives in
`entrant/` and reads the notices in `sortant/`), and judges each notice and each return by the exchange's
contract (`contracts/archives/v1`), within the deadlines of the service contract (`modeDossier`).

An accepted archive becomes a `Depot` of the scenario (its notice's `idDepot` plays the API's receipt), so
the steps of the API mode on returns, acknowledgements and retention apply to it unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import isodate
import pytest
from pytest_bdd import given, parsers, then, when

from harness.campaign.reservations import reserve
from harness.campaign.suites.bdd.steps.communs import Depot, Scenario, trace, wait_until
from harness.campaign.suites.bdd.steps.depots import MATCHING, declared_metadata
from harness.campaign.suites.bdd.steps.incidents import incident_address
from harness.campaign.suites.bdd.steps.retours import deadline, due_in, settle, the_return
from harness.campaign.target import Target
from harness.conformance.deposits import DepositLedger, TrackedDeposit
from harness.foundations.archive_convention import NOTICE_SCHEMA, RETURN_SCHEMA, ack_name, schema_errors
from harness.foundations.asp_client import AspClient, CallbackInspector, DepositBody, Document
from harness.foundations.service_contract import load_service_contract
from mocks.depot import DepositServer
from mocks.depot.archives import FAMILIES, SIZE_FAMILY, Piece, Sizes, Unsafe, build, manifest, sae_digest, unsafe
from mocks.depot.journal import REMOVE, UPLOAD
from mocks.depot.server import ASP_SIDE

ARCHIVES_LIFT = (
    "décrire dans recette.toml la section [archives] (protocole, clé publique SSH ou certificat client de la "
    "plateforme, canal de retour) et faire se connecter la plateforme au serveur de dépôt de recette de l'ASP"
)
SIZES_LIFT = "donner dans la section [archives] de recette.toml les tailles convenues (limites) avec le titulaire"
BIG_PIECE_BYTES = 25_000_000
"""The transaction of the scenario « 25 Mo »: beyond the API's 20 MB, within an archive's agreed sizes."""
ABSOLUTE_ROOT = Path("/tmp")
"""Where the absolute-path archive tries to write (`mocks/depot/archives.py`)."""
PDF = b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n%%EOF\n"


@dataclass
class Sent:
    """One archive the ASP put in `entrant/`, and what it expects of it."""

    archive_id: str
    name: str
    content: bytes
    deposited_at: datetime
    metadonnees: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] | None = None
    """A valid archive's manifest; None for an unsafe one."""
    case: Unsafe | None = None
    expected_code: str | None = None
    """The reason of refusal expected in its notice."""
    notice: dict[str, Any] | None = None


@dataclass
class Archives:
    """What a scenario deposited on the server, in order."""

    sent: list[Sent] = field(default_factory=list)
    big_piece: Document | None = None
    """The piece the API refused as too big, deposited again in an archive."""

    @property
    def last(self) -> Sent:
        assert self.sent, "aucune archive déposée dans ce scénario"
        return self.sent[-1]


@dataclass(frozen=True)
class Deadlines:
    """The service contract's deadlines of the archive mode (`modeDossier`), else the API mode's."""

    notice: timedelta
    retour: timedelta


@pytest.fixture
def archives() -> Archives:
    return Archives()


@pytest.fixture
def serveur_depot(cible: Target) -> DepositServer:
    """The ASP's deposit server the titulaire watches; a reservation when the run has none."""
    if cible.depot is None:
        reserve("mode dossier non qualifiable : aucun serveur de dépôt configuré pour la plateforme", ARCHIVES_LIFT)
    return cible.depot


@pytest.fixture(scope="session")
def delais_dossier(cible: Target) -> Deadlines:
    document = load_service_contract(cible.service_contract)
    mode = document.get("modeDossier", {})
    fallback = document["qualiteDeService"]["delaiMaxRetour"]
    notice = isodate.parse_duration(mode.get("delaiMaxNotification", fallback))
    retour = isodate.parse_duration(mode.get("delaiMaxRetour", fallback))
    return Deadlines(notice, retour)


def agreed_sizes(cible: Target) -> Sizes | None:
    """The sizes agreed with the titulaire: the reference's limits, or those `[archives]` gives."""
    if cible.reference is not None and cible.reference.settings.archives is not None:
        limits = cible.reference.settings.archives.limits
        return Sizes(limits.entry_bytes, limits.total_bytes, limits.entries, limits.ratio)
    archives = cible.config.archives if cible.config is not None else None
    return archives.sizes() if archives is not None else None


def agreed_channel(cible: Target) -> str:
    """The channel agreed for the returns of archives (canal de retour): the reference's, or `[archives]`'s."""
    if cible.reference is not None and cible.reference.settings.archives is not None:
        return cible.reference.settings.archives.return_channel
    archives = cible.config.archives if cible.config is not None else None
    return archives.canal_retour if archives is not None else "api"


def put(serveur: DepositServer, archives: Archives, sent: Sent, preuves: list[str]) -> Sent:
    serveur.put(sent.name, sent.content)
    digest = hashlib.sha256(sent.content).hexdigest()
    preuves.append(f"archive déposée dans entrant/ : {sent.name} ({len(sent.content)} octets, SHA-256 {digest})")
    archives.sent.append(sent)
    return sent


def new_archive_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def document(name: str) -> bytes:
    """A small PDF; its content depends on its name, so two documents never share a hash."""
    return PDF + f"% {name}\n".encode()


def deposit_valid(
    serveur: DepositServer, archives: Archives, scenario: Scenario, kind: str, pieces: list[Piece], preuves: list[str]
) -> Sent:
    """A valid archive of `pieces` with the dossier's metadata (and its SAE hash when the option is on)."""
    archive_id = new_archive_id("ARCHIVE")
    metadonnees = declared_metadata(scenario, [])
    if scenario.sae is not None:
        sae = sae_digest(pieces) if scenario.sae == MATCHING else sae_digest([Piece({"autre": b"autre"})])
        metadonnees["empreinte"] = sae
    name, content = build(archive_id, kind, metadonnees, pieces)
    code = None if scenario.sae in (None, MATCHING) else "manifeste-non-concordant"
    sent = Sent(archive_id, name, content, datetime.now(UTC), metadonnees, manifest(archive_id, metadonnees, pieces))
    sent.expected_code = code
    return put(serveur, archives, sent, preuves)


def two_pieces() -> list[Piece]:
    """Two pieces, the first made of two documents (several invoices)."""
    return [
        Piece({"facture-1.pdf": document("facture-1"), "facture-2.pdf": document("facture-2")}),
        Piece({"justificatif.pdf": document("justificatif")}),
    ]


def wait_notice(serveur: DepositServer, sent: Sent, delais: Deadlines, preuves: list[str]) -> dict[str, Any]:
    """The archive's notice in `sortant/`, within `delaiMaxNotification` of its deposit."""
    notice = wait_until(
        lambda: serveur.notice(sent.archive_id),
        f"notification de réception de {sent.name}",
        due_in(sent.deposited_at, delais.notice),
    )
    preuves.append(f"notification de {sent.name} : {json.dumps(notice, ensure_ascii=False)}")
    sent.notice = notice
    return notice


def check_notice_fields(sent: Sent, notice: dict[str, Any]) -> None:
    """What the convention fixes in any notice: its schema, the archive it names, its size and hash."""
    errors = schema_errors(NOTICE_SCHEMA, notice)
    assert not errors, f"notification non conforme à son schéma : {errors}"
    assert notice["identifiantArchive"] == sent.archive_id, notice["identifiantArchive"]
    assert notice["nomFichier"] == sent.name, notice["nomFichier"]
    assert notice["tailleOctets"] == len(sent.content), f"taille notifiée {notice['tailleOctets']}"
    assert notice["empreinte"]["valeur"] == hashlib.sha256(sent.content).hexdigest(), "empreinte notifiée fausse"


# -- given ----------------------------------------------------------------------------------------------


@given("le serveur de dépôt de l'ASP attend les archives du titulaire")
def serveur_attend(serveur_depot: DepositServer, preuves: list[str]) -> None:
    state = serveur_depot.state()
    preuves.append(
        f"serveur de dépôt : SFTP {state['sftp']['host']}:{state['sftp']['port']}, "
        f"FTPS {state['ftps']['host']}:{state['ftps']['port']}, espace {state['sftp']['user']}"
    )


@given("le retour des archives est convenu par archive sur le serveur de dépôt")
def canal_archive_convenu(cible: Target, preuves: list[str]) -> None:
    """A scenario of the return-archive channel only: without object (skipped) on the callback API's."""
    channel = agreed_channel(cible)
    if channel != "archive":
        pytest.skip(f"sans objet : le retour des archives est convenu sur le canal « {channel} »")
    preuves.append("canal de retour convenu : archive (sortant/<identifiantArchive>.retour.zip)")


@given(parsers.parse('l\'ASP a déposé une archive "{kind}" et reçu son retour unique'))
def archive_et_retour(
    serveur_depot: DepositServer,
    archives: Archives,
    scenario: Scenario,
    cible: Target,
    depots_suivis: DepositLedger,
    inspecteur: CallbackInspector,
    delais_dossier: Deadlines,
    kind: str,
    preuves: list[str],
) -> None:
    sent = deposit_valid(serveur_depot, archives, scenario, kind, two_pieces(), preuves)
    notice_acceptee(serveur_depot, archives, scenario, cible, depots_suivis, delais_dossier, preuves)
    un_seul_retour(archives, scenario, cible, inspecteur, delais_dossier, preuves)
    assert sent.notice is not None


# -- when -----------------------------------------------------------------------------------------------


@when(parsers.parse('l\'ASP dépose une archive "{kind}" de deux pièces, dont une de plusieurs documents'))
def deposer_archive(
    serveur_depot: DepositServer, archives: Archives, scenario: Scenario, kind: str, preuves: list[str]
) -> None:
    deposit_valid(serveur_depot, archives, scenario, kind, two_pieces(), preuves)


@when(parsers.parse('l\'ASP dépose les archives dangereuses de la famille "{family}"'))
def deposer_dangereuses(
    serveur_depot: DepositServer, archives: Archives, scenario: Scenario, cible: Target, family: str, preuves: list[str]
) -> None:
    assert family in FAMILIES, f"famille inconnue « {family} » : {list(FAMILIES)}"
    sizes = agreed_sizes(cible)
    if sizes is None and family == SIZE_FAMILY:
        reserve("tailles d'archive non jugeables : les tailles convenues avec le titulaire sont inconnues", SIZES_LIFT)
    metadonnees = declared_metadata(scenario, [])
    for case in FAMILIES[family]:
        archive = unsafe(case)
        archive_id = new_archive_id("DANGER")
        content = archive.make(archive_id, metadonnees, sizes or Sizes(0, 0, 0, 0))
        sent = Sent(archive_id, archive.file_name(archive_id), content, datetime.now(UTC), metadonnees, case=archive)
        sent.expected_code = archive.code
        put(serveur_depot, archives, sent, preuves)


@when("l'ASP dépose par l'API une pièce de 25 Mo")
def deposer_25_mo_api(scenario: Scenario, archives: Archives, asp: AspClient, preuves: list[str]) -> None:
    piece = Document("scan.pdf", PDF + os.urandom(BIG_PIECE_BYTES - len(PDF)), "application/pdf")
    body = DepositBody(asp.major.wire_metadata(declared_metadata(scenario, [piece])), [piece])
    scenario.response = asp.send_body(body)
    archives.big_piece = piece
    trace(preuves, scenario.response, f"dépôt par l'API d'une pièce de {len(piece.content)} octets")


@when(parsers.parse('l\'ASP dépose la même pièce dans une archive "{kind}"'))
def deposer_25_mo_archive(
    serveur_depot: DepositServer, archives: Archives, scenario: Scenario, kind: str, preuves: list[str]
) -> None:
    piece = archives.big_piece
    assert piece is not None, "aucune pièce refusée par l'API dans ce scénario"
    deposit_valid(serveur_depot, archives, scenario, kind, [Piece({piece.name: piece.content})], preuves)


# -- then -----------------------------------------------------------------------------------------------


@then("le titulaire publie dans le délai une notification de réception acceptée, conforme à la convention")
def notice_acceptee(
    serveur_depot: DepositServer,
    archives: Archives,
    scenario: Scenario,
    cible: Target,
    depots_suivis: DepositLedger,
    delais_dossier: Deadlines,
    preuves: list[str],
) -> None:
    sent = archives.last
    notice = wait_notice(serveur_depot, sent, delais_dossier, preuves)
    check_notice_fields(sent, notice)
    assert notice["statut"] == "ACCEPTEE", f"archive {notice['statut']} : {notice.get('motifs')}"
    assert sent.manifest is not None
    assert notice.get("idDepot"), "une archive acceptée n'a pas d'idDepot"
    assert notice.get("nombrePieces") == len(sent.manifest["pieces"]), f"nombrePieces {notice.get('nombrePieces')}"
    receipt = httpx.Response(202, json={"idDepot": notice["idDepot"]})
    cible.meter.accepted(notice["idDepot"], len(sent.content))  # billed like a deposit: the archive's bytes
    accepted = datetime.now(UTC)
    depots_suivis.record(TrackedDeposit(notice["idDepot"], accepted, f"archive {sent.name}"))  # judged by `contrat`
    scenario.depots.append(Depot(sent.metadonnees, [], receipt, accepted_at=accepted))


@then(
    "l'ASP reçoit dans le délai exactement un retour pour l'archive, avec les métadonnées du manifeste "
    "et l'UID de chaque pièce"
)
def un_seul_retour(
    archives: Archives,
    scenario: Scenario,
    cible: Target,
    inspecteur: CallbackInspector,
    delais_dossier: Deadlines,
    preuves: list[str],
) -> None:
    """Read where the return is agreed (the callback API, or a return archive), never on the other channel."""
    sent, depot = archives.last, scenario.depot
    assert sent.manifest is not None
    settle(inspecteur.wait_for_return(depot.id_depot, timeout=deadline(depot, delais_dossier.retour)))
    calls = scenario.returns[depot.id_depot] = inspecteur.received(depot.id_depot)
    seen = [(c["idRetour"], c.get("canal", "api"), c["statutHttp"]) for c in calls]
    preuves.append(f"retours reçus pour {depot.id_depot} (idRetour, canal, HTTP) : {seen}")
    channel = agreed_channel(cible)
    assert {c.get("canal", "api") for c in calls} == {channel}, f"retour hors du canal convenu « {channel} » : {seen}"
    assert len({c["idRetour"] for c in calls}) == 1, f"{len(calls)} retours pour une seule archive"
    assert all(c["valide"] for c in calls), [c["violations"] for c in calls]
    retour = calls[0]["retour"]
    errors = schema_errors(RETURN_SCHEMA, retour)
    assert not errors, f"retour non conforme au mode dossier : {errors}"
    assert retour["metadonnees"] == sent.manifest["metadonnees"], f"métadonnées renvoyées : {retour['metadonnees']}"
    declared = sorted((p["uid"], d["chemin"]) for p in sent.manifest["pieces"] for d in p["documents"])
    returned = sorted((p["uid"], p["nom"]) for p in retour["pieces"])
    assert returned == declared, f"pièces renvoyées (uid, nom) {returned} au lieu de {declared}"


@then(
    parsers.parse('le titulaire publie dans le délai une notification de rejet de motif "{code}" pour chaque archive')
)
def rejet_de_motif(
    serveur_depot: DepositServer, archives: Archives, delais_dossier: Deadlines, code: str, preuves: list[str]
) -> None:
    for sent in archives.sent:
        sent.expected_code = code
    rejet_attendu(serveur_depot, archives, delais_dossier, preuves)


@then("le titulaire publie dans le délai une notification de rejet du motif attendu pour chaque archive")
def rejet_attendu(
    serveur_depot: DepositServer, archives: Archives, delais_dossier: Deadlines, preuves: list[str]
) -> None:
    wrong = []
    for sent in archives.sent:
        notice = wait_notice(serveur_depot, sent, delais_dossier, preuves)
        check_notice_fields(sent, notice)
        codes = [m["code"] for m in notice.get("motifs", [])]
        if notice["statut"] != "REJETEE" or codes != [sent.expected_code] or "idDepot" in notice:
            wrong.append(f"{sent.name} ({sent.case.case if sent.case else 'SAE'}) : {notice['statut']} {codes}")
        assert notice.get("idIncident"), f"{sent.name} : rejet sans idIncident"
    assert not wrong, "rejets attendus avec leur seul motif : " + "; ".join(wrong)


@then("un courriel d'incident nommant chaque archive refusée alerte l'ASP")
def courriel_par_archive(
    archives: Archives, cible: Target, inspecteur: CallbackInspector, delais_dossier: Deadlines, preuves: list[str]
) -> None:
    """The alert is due with the refusal: within the notice's deadline of the latest refused archive."""
    address = incident_address(cible)
    refused = [s for s in archives.sent if s.notice is not None and s.notice["statut"] == "REJETEE"]
    assert refused, "aucune archive refusée dans ce scénario"

    def naming_each() -> dict[str, list[dict[str, Any]]] | None:
        mails = inspecteur.mails()
        found = {s.archive_id: [m for m in mails if s.archive_id in m["subject"] + m["body"]] for s in refused}
        return found if all(found.values()) else None

    timeout = due_in(max(s.deposited_at for s in refused), delais_dossier.notice)
    if cible.reference is None:
        until = time.monotonic() + timeout
        while (found := naming_each()) is None and time.monotonic() < until:
            time.sleep(0.2)
        if found is None:
            reserve("courriels d'incident non observables pour les archives refusées", ARCHIVES_LIFT)
    else:
        found = wait_until(naming_each, "un courriel d'incident par archive refusée", timeout)
    preuves.append(f"courriels : {[(k, [m['recipients'] for m in v]) for k, v in found.items()]}")
    for archive_id, mails in found.items():
        assert len(mails) == 1, f"{len(mails)} courriels pour l'archive {archive_id}"
        assert mails[0]["recipients"] == [address], f"{archive_id} : courriel à {mails[0]['recipients']}"


@then("rien n'est écrit hors du dossier de travail de l'archive")
def rien_hors_du_dossier(archives: Archives, cible: Target, preuves: list[str]) -> None:
    assert cible.reference is not None
    root = cible.reference.settings.data_dir.parent
    markers = [s.case.marker for s in archives.sent if s.case is not None and s.case.marker]
    assert markers, "aucune archive de ce scénario ne tente d'écrire hors de son dossier"
    found = [str(path) for marker in markers for path in root.rglob(marker)]
    found += [str(ABSOLUTE_ROOT / m) for m in markers if (ABSOLUTE_ROOT / m).exists()]
    preuves.append(f"recherché {markers} sous {root} et {ABSOLUTE_ROOT} : {found or 'rien'}")
    assert not found, f"écrit hors du dossier : {found}"


@then("l'ASP acquitte le retour déposé en archive et le titulaire retire l'acquittement")
def acquittement_retire(
    serveur_depot: DepositServer,
    archives: Archives,
    scenario: Scenario,
    delais_dossier: Deadlines,
    preuves: list[str],
) -> None:
    """The ASP wrote `entrant/<id>.acquittement.json` (its journal says so); the titulaire removes it within the
    return's deadline: the deposit server's journal, out of the titulaire's reach, is the evidence."""
    sent, depot = archives.last, scenario.depot
    call = the_return(scenario, depot)
    path = f"/entrant/{ack_name(sent.archive_id)}"
    assert call.get("canal") == "archive", f"retour reçu sur le canal {call.get('canal', 'api')}"
    journal = serveur_depot.journal
    assert any(e.operation == UPLOAD and e.chemin == path for e in journal.entries(ASP_SIDE)), f"{path} non écrit"

    def removed() -> list[str] | None:
        found = [
            e.horodatage
            for e in journal.entries(serveur_depot.access.user)
            if (e.operation, e.chemin) == (REMOVE, path)
        ]
        return found or None

    moments = wait_until(removed, f"{path} retiré par le titulaire", deadline(depot, delais_dossier.retour))
    preuves.append(f"acquittement {call['idAcquittement']} écrit dans {path}, retiré par le titulaire le {moments[0]}")
    assert path.removeprefix("/entrant/") not in serveur_depot.inbound()
