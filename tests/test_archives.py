"""The archive mode end to end, through the real deposit server: the reference fetches each archive over SFTP
or FTPS (every unsafe case over both), publishes its notice and sends one return per accepted archive;
every unsafe archive is refused with its reason, an incident and a mail, nothing written outside its folder."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from jsonschema import Draft202012Validator

from harness.campaign.config import RETURN_CHANNELS, ConfigError, RunConfig, load_config
from harness.campaign.depot import DEPOT_FILE, external_depot
from harness.campaign.environment import Environment, EnvironmentOptions
from harness.campaign.receiver import ReturnReceiver
from harness.campaign.results import CampaignReport
from harness.campaign.runner import RunOptions, run_campaign
from harness.campaign.suites.bdd.steps.retours import settle
from harness.foundations import archive_convention
from harness.foundations.archive_convention import (
    MANIFEST_SCHEMA,
    NOTICE_SCHEMA,
    RETURN_SCHEMA,
    SCHEMAS,
    return_archive,
    schema_errors,
)
from harness.foundations.asp_client import CallbackInspector
from harness.foundations.billing import BillingTags
from harness.foundations.contracts import contract_path
from harness.foundations.tls import CertificatePair, RunCertificates, client_context
from harness.lint import lint_file
from harness.reference.archives.remote import session
from harness.reference.settings import ArchiveLimits, ArchiveSettings
from mocks.depot.archives import UNSAFE, Piece, Sizes, build, manifest, sae_digest, unsafe
from tests.builders import valid_retour
from tests.conftest import FAST_RETRIES, PDF, TESTS_DAY, clock_of_the_tests_day, metadonnees
from tests.helpers import wait_until
from tests.test_cli import read_until

LIMITS = ArchiveLimits(entries=12, entry_bytes=1_500_000, total_bytes=2_500_000, ratio=50.0)
SIZES = Sizes(LIMITS.entry_bytes, LIMITS.total_bytes, LIMITS.entries, LIMITS.ratio)
VALID_KINDS = ("zip", "tar", "tar.gz")
NOTICE_SECONDS = 30.0


class Deposited:
    """The archives a module deposited at once (one look of the reference takes them all)."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.sent: dict[str, dict[str, Any]] = {}
        """Archive id → what was deposited: its manifest (valid ones) or its unsafe case."""

    def valid(self, kind: str) -> str:
        archive_id = f"VALIDE-{kind.replace('.', '-')}-{uuid.uuid4().hex[:6]}"
        pieces = [Piece({"facture-1.pdf": PDF, "facture-2.pdf": PDF + b"2"}), Piece({"rib.txt": b"FR76 3000"})]
        name, content = build(archive_id, kind, metadonnees(donneesMetier={"siret": "12345678901234"}), pieces)
        self.env.depot.put(name, content)  # type: ignore[union-attr]
        self.sent[archive_id] = manifest(archive_id, metadonnees(), pieces) | {"_pieces": pieces, "_name": name}
        return archive_id

    def unsafe(self, case: str) -> str:
        archive = unsafe(case)
        archive_id = f"DANGER-{uuid.uuid4().hex[:8]}"
        self.env.depot.put(archive.file_name(archive_id), archive.make(archive_id, metadonnees(), SIZES))  # type: ignore[union-attr]
        self.sent[archive_id] = {"case": case}
        return archive_id

    def notice(self, archive_id: str) -> dict[str, Any]:
        depot = self.env.depot
        assert depot is not None
        return wait_until(lambda: depot.notice(archive_id), f"notification de {archive_id}", NOTICE_SECONDS)


def _environment(directory: Path, protocol: str) -> Environment:
    options = EnvironmentOptions(
        reference={"retry": FAST_RETRIES, "poll_seconds": 0.1},
        clock=clock_of_the_tests_day(),
        archives=protocol,
        archive_limits=LIMITS,
    )
    return Environment(directory, options).start()


def _deposit_all(env: Environment, kinds: tuple[str, ...], cases: tuple[str, ...]) -> dict[str, str]:
    deposited = Deposited(env)
    ids = {kind: deposited.valid(kind) for kind in kinds} | {case: deposited.unsafe(case) for case in cases}
    env.deposited = deposited  # type: ignore[attr-defined]
    return ids


@pytest.fixture(scope="module")
def sftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Environment, dict[str, str]]]:
    env = _environment(tmp_path_factory.mktemp("sftp"), "sftp")
    ids = _deposit_all(env, VALID_KINDS, tuple(u.case for u in UNSAFE))
    yield env, ids
    env.stop()
    assert env.titulaire.contract_violations == []


@pytest.fixture(scope="module")
def ftps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Environment, dict[str, str]]]:
    env = _environment(tmp_path_factory.mktemp("ftps"), "ftps")
    ids = _deposit_all(env, ("zip",), tuple(u.case for u in UNSAFE))
    yield env, ids
    env.stop()
    assert env.titulaire.contract_violations == []


def _check_accepted(env: Environment, archive_id: str) -> None:
    deposited: Deposited = env.deposited  # type: ignore[attr-defined]
    notice = deposited.notice(archive_id)
    assert schema_errors(NOTICE_SCHEMA, notice) == []
    assert notice["statut"] == "ACCEPTEE", notice
    assert notice["nombrePieces"] == 2
    inspector = env.inspector()
    settle(inspector.wait_for_return(notice["idDepot"], timeout=NOTICE_SECONDS))
    calls = inspector.received(notice["idDepot"])
    assert len(calls) == 1, f"{len(calls)} retours pour une archive"
    assert calls[0]["valide"], calls[0]["violations"]
    retour = calls[0]["retour"]
    assert schema_errors(RETURN_SCHEMA, retour) == []
    sent = deposited.sent[archive_id]
    assert retour["metadonnees"]["donneesMetier"] == {"siret": "12345678901234"}
    declared = [(p["uid"], d["chemin"]) for p in sent["pieces"] for d in p["documents"]]
    assert sorted((r["uid"], r["nom"]) for r in retour["pieces"]) == sorted(declared)
    depot = env.depot
    assert depot is not None
    wait_until(lambda: sent["_name"] not in depot.inbound(), "archive retirée d'entrant/", NOTICE_SECONDS)


def _check_refused(env: Environment, archive_id: str, case: str) -> None:
    deposited: Deposited = env.deposited  # type: ignore[attr-defined]
    notice = deposited.notice(archive_id)
    assert schema_errors(NOTICE_SCHEMA, notice) == []
    assert notice["statut"] == "REJETEE", notice
    assert [m["code"] for m in notice["motifs"]] == [unsafe(case).code], notice["motifs"]
    assert "idDepot" not in notice
    mail = env.smtp.wait_for(lambda m: m.header("X-Incident-Id") == notice["idIncident"], timeout=NOTICE_SECONDS)
    assert archive_id in mail.body
    assert unsafe(case).code in mail.body
    if marker := unsafe(case).marker:  # os.walk passes over a folder the reference removes meanwhile; rglob fails
        assert not [n for _, dirs, files in os.walk(env.run_dir.parent) for n in (*dirs, *files) if n == marker]
        assert not Path("/tmp", marker).exists()
    depot = env.depot
    assert depot is not None
    taken = "archive retirée d'entrant/"
    wait_until(lambda: not [n for n in depot.inbound() if n.startswith(archive_id)], taken, NOTICE_SECONDS)


@pytest.mark.parametrize("kind", VALID_KINDS)
def test_a_valid_archive_gets_its_notice_and_exactly_one_return_over_sftp(
    sftp: tuple[Environment, dict[str, str]], kind: str
) -> None:
    env, ids = sftp
    _check_accepted(env, ids[kind])


@pytest.mark.parametrize("case", [u.case for u in UNSAFE])
def test_each_unsafe_archive_is_refused_with_its_reason_an_incident_and_a_mail_over_sftp(
    sftp: tuple[Environment, dict[str, str]], case: str
) -> None:
    env, ids = sftp
    _check_refused(env, ids[case], case)


def test_a_valid_archive_gets_its_notice_and_exactly_one_return_over_ftps(
    ftps: tuple[Environment, dict[str, str]],
) -> None:
    env, ids = ftps
    _check_accepted(env, ids["zip"])


@pytest.mark.parametrize("case", [u.case for u in UNSAFE])
def test_each_unsafe_archive_is_refused_with_its_reason_an_incident_and_a_mail_over_ftps(
    ftps: tuple[Environment, dict[str, str]], case: str
) -> None:
    env, ids = ftps
    _check_refused(env, ids[case], case)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("sftp") is None, reason="le client sftp d'OpenSSH n'est pas installé")
def test_serve_then_the_printed_sftp_lines_give_a_notice_and_one_inspectable_return(tmp_path: Path) -> None:
    directory = tmp_path / "env"
    command = [sys.executable, "-m", "harness.cli", "serve", "--dir", str(directory)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ | {"COLUMNS": "1000"}
    )
    try:
        printed = read_until(process, "Ctrl-C")
        put, get = [line for line in printed.splitlines() if line.startswith(("printf ", "echo "))]
        assert subprocess.run(["bash", "-c", put], capture_output=True, timeout=60).returncode == 0
        notice_file = directory / "DOSSIER-EXEMPLE.notification.json"

        def fetched() -> bool:
            subprocess.run(["bash", "-c", get], capture_output=True, timeout=60)
            return notice_file.exists()

        wait_until(fetched, "notification récupérée par sftp", NOTICE_SECONDS, every=0.5)
        notice = json.loads(notice_file.read_text(encoding="utf-8"))
        assert notice["statut"] == "ACCEPTEE", notice
        state = json.loads((directory / "etat.json").read_text(encoding="utf-8"))
        tls = state["tls"]
        context = client_context(Path(tls["ca"]), CertificatePair(Path(tls["recette_cert"]), Path(tls["recette_key"])))
        inspector = CallbackInspector(state["asp_callback"]["url"], context)
        settle(inspector.wait_for_return(notice["idDepot"], timeout=NOTICE_SECONDS))
        calls = inspector.received(notice["idDepot"])
        assert [(c["valide"], c["retour"]["modeEchange"]) for c in calls] == [(True, "DOSSIER")]
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


# -- `[archives]` of recette.toml: a real platform on the harness's deposit server --------------------------


@pytest.fixture
def platform_folder(tmp_path: Path) -> Path:
    certs = RunCertificates.create(tmp_path / "tls")
    (tmp_path / "certs").mkdir()
    for source, name in ((certs.ca, "ca.pem"), (certs.asp_client.cert, "client.crt.pem")):
        shutil.copy(source, tmp_path / "certs" / name)
    shutil.copy(certs.asp_client.key, tmp_path / "certs" / "client.key.pem")
    asyncssh.generate_private_key("ssh-ed25519").write_public_key(str(tmp_path / "certs" / "titulaire.pub"))
    return tmp_path


def platform_config(folder: Path, archives: str) -> RunConfig:
    (folder / "recette.toml").write_text(PLATFORM_TOML + archives, encoding="utf-8")
    return load_config(folder / "recette.toml", {"RECETTE_CLIENT_SECRET": "s"}, {})


PLATFORM_TOML = """
[target]
url = "https://titulaire.example/"
ca = "certs/ca.pem"
[client]
cert = "certs/client.crt.pem"
key = "certs/client.key.pem"
[oauth]
token_url = "https://idp.example/token"
client_id = "asp-recette"
[callback]
url = "https://127.0.0.1:9"
"""


def test_the_archives_table_gives_the_protocol_credentials_and_agreed_sizes(platform_folder: Path) -> None:
    config = platform_config(
        platform_folder,
        '[archives]\nprotocole = "sftp"\ncle_publique = "certs/titulaire.pub"\nport = 2222\n'
        "[archives.limites]\nentrees = 10\noctets_par_entree = 100\noctets_total = 150\ntaux = 20\n",
    )
    assert config.archives is not None
    listening = config.archives.listening()
    assert (listening.authorized_key, listening.sftp_port) == (platform_folder / "certs" / "titulaire.pub", 2222)
    assert config.archives.sizes() == Sizes(100, 150, 10, 20.0)


@pytest.mark.parametrize(
    ("archives", "message"),
    [
        ('protocole = "sftp"', "réglage manquant : archives.cle_publique (protocole sftp)"),
        ('protocole = "ftps"\ncertificat_client = "certs/ca.pem"', "archives.mot_de_passe"),
        ('protocole = "cft"', "[archives] protocole : "),
        ('protocole = "sftp"\ncle_publique = "certs/absente.pub"', "[archives] cle_publique : "),
        ('protocole = "sftp"\ncle_publique = "certs/titulaire.pub"\ncanal_retour = "courrier"', "canal_retour"),
    ],
)
def test_a_wrong_archives_table_is_one_line_naming_its_key(platform_folder: Path, archives: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        platform_config(platform_folder, f"[archives]\n{archives}\n")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_return_channels_of_the_configuration_are_those_of_the_convention(platform_folder: Path) -> None:
    assert RETURN_CHANNELS == archive_convention.RETURN_CHANNELS
    config = platform_config(platform_folder, '[archives]\nprotocole = "sftp"\ncle_publique = "certs/titulaire.pub"\n')
    assert config.archives is not None
    assert config.archives.canal_retour == "api"
    table = '[archives]\nprotocole = "sftp"\ncle_publique = "certs/titulaire.pub"\ncanal_retour = "archive"\n'
    archive = platform_config(platform_folder, table).archives
    assert archive is not None
    assert archive.canal_retour == "archive"


def test_a_real_platform_finds_the_deposit_server_described_in_the_reports(platform_folder: Path) -> None:
    config = platform_config(platform_folder, '[archives]\nprotocole = "sftp"\ncle_publique = "certs/titulaire.pub"\n')
    receiver = ReturnReceiver(config, platform_folder / "recepteur")
    server = external_depot(config, receiver, platform_folder / "env", platform_folder)
    assert server is not None
    try:
        described = json.loads((platform_folder / DEPOT_FILE).read_text(encoding="utf-8"))
        assert described["sftp"] == {
            "host": "127.0.0.1",
            "port": server.sftp_port,
            "user": "titulaire",
            "host_key_fingerprint": server.host_fingerprint,
        }
        assert described["protocole"] == "sftp"
        assert "password" not in json.dumps(described)
        assert server.access.key is None
    finally:
        server.stop()


@pytest.mark.parametrize(("channel", "acknowledged"), [("archive", True), ("api", False)])
def test_a_real_platform_returning_by_archive_is_heard_by_the_receiver_on_the_agreed_channel(
    platform_folder: Path, channel: str, acknowledged: bool
) -> None:
    """The platform's own key logs in; its return archive reaches the receiver's journal, acknowledged only when
    `canal_retour = "archive"` is agreed."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(platform_folder / "plateforme"))
    key.write_public_key(str(platform_folder / "certs" / "titulaire.pub"))
    table = f'[archives]\nprotocole = "sftp"\ncle_publique = "certs/titulaire.pub"\ncanal_retour = "{channel}"\n'
    config = platform_config(platform_folder, table)
    receiver = ReturnReceiver(config, platform_folder / "recepteur")
    server = external_depot(config, receiver, platform_folder / "env", platform_folder)
    assert server is not None
    try:
        retour = valid_retour(modeEchange="DOSSIER")
        notice = {"identifiantArchive": "PLATEFORME-1", "idDepot": retour["idDepot"]}
        (server.space() / "sortant" / "PLATEFORME-1.notification.json").write_text(json.dumps(notice), encoding="utf-8")
        settings = ArchiveSettings(
            "sftp", "127.0.0.1", server.sftp_port, "titulaire", platform_folder / "plateforme", server.known_hosts
        )

        async def publish() -> None:
            async with session(settings, None) as remote:
                await remote.publish("/sortant", "PLATEFORME-1.retour.zip", return_archive(json.dumps(retour).encode()))

        asyncio.run(publish())
        assert server.returns is not None
        server.returns.wait_idle()
        [call] = receiver.recorder.entries(retour["idDepot"])
        assert (call["canal"], call["idAcquittement"] is not None) == ("archive", acknowledged)
        assert ("PLATEFORME-1.acquittement.json" in server.inbound()) is acknowledged
    finally:
        server.stop()


@pytest.mark.slow
def test_accepted_archives_are_metered_like_deposits_and_refused_ones_are_not(tmp_path: Path) -> None:
    tags = BillingTags.create("build:tests-dossiers")
    options = RunOptions(tmp_path, tags, ("dossiers",), keywords="notifi or ne_correspond", day=TESTS_DAY)
    report = run_campaign(options)
    assert report.qualified, [f"{r.scenario} : {r.failed_step}" for r in report.failures]
    figures = report.deposits_per_suite["dossiers"]
    assert figures["depots"] == 3, figures
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    notices = [json.loads(line) for line in _accepted_notice_lines(report)]
    assert figures["octets"] == sum(n["tailleOctets"] for n in notices)
    billing = json.loads((run_dir / "billing.json").read_text(encoding="utf-8"))
    assert billing["facturable"] == "non"


def _accepted_notice_lines(report: CampaignReport) -> list[str]:
    """The accepted notices the scenarios recorded as evidence (« notification de X : {...} »)."""
    lines = [e.split(" : ", 1)[1] for r in report.results for e in r.evidence if e.startswith("notification de ")]
    return [line for line in lines if '"ACCEPTEE"' in line]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_each_schema_of_the_exchange_is_a_valid_json_schema(schema: str) -> None:
    Draft202012Validator.check_schema(json.loads(contract_path(schema).read_text(encoding="utf-8")))


def test_the_manifest_the_asp_writes_follows_its_schema_and_a_broken_one_does_not() -> None:
    pieces = [Piece({"a.pdf": PDF, "b.pdf": PDF + b"b"})]
    written = manifest("A-1", metadonnees(sae=True, empreinte=sae_digest(pieces)), pieces)
    assert schema_errors(MANIFEST_SCHEMA, written) == []
    del written["metadonnees"]["empreinte"]
    assert schema_errors(MANIFEST_SCHEMA, written) == ["metadonnees : 'empreinte' is a required property"]


def test_a_retransmission_request_in_entrant_sends_the_same_return_again(
    sftp: tuple[Environment, dict[str, str]],
) -> None:
    env, ids = sftp
    deposited: Deposited = env.deposited  # type: ignore[attr-defined]
    notice = deposited.notice(ids["tar"])
    inspector = env.inspector()
    first = inspector.wait_for_return(notice["idDepot"], timeout=NOTICE_SECONDS)
    request = {"idDepot": notice["idDepot"], "demandeeLe": "2026-12-15T12:00:00Z"}
    assert env.depot is not None
    env.depot.put("R-1.retransmission.json", json.dumps(request).encode())
    calls = inspector.wait_for_return(notice["idDepot"], timeout=NOTICE_SECONDS, count=len(first) + 1)
    assert [c["idRetour"] for c in calls] == [first[0]["idRetour"]] * len(calls)
    assert calls[-1]["redelivery"] is True
    wait_until(lambda: "R-1.retransmission.json" not in env.depot.inbound(), "demande retirée", NOTICE_SECONDS)  # type: ignore[union-attr]


def test_a_retransmission_request_for_an_unknown_deposit_opens_an_incident(
    sftp: tuple[Environment, dict[str, str]],
) -> None:
    env, _ = sftp
    unknown = str(uuid.uuid4())
    assert env.depot is not None
    env.depot.put(
        "R-2.retransmission.json", json.dumps({"idDepot": unknown, "demandeeLe": "2026-12-15T12:00:00Z"}).encode()
    )
    mail = env.smtp.wait_for(lambda m: "R-2.retransmission.json" in m.subject, timeout=NOTICE_SECONDS)
    assert "depot-inconnu" in mail.body


@pytest.mark.parametrize("schema", SCHEMAS)
def test_recette_lint_finds_each_schema_of_the_exchange_valid(schema: str) -> None:
    report = lint_file(contract_path(schema))
    assert (report.findings, report.applied) == ([], ["schema-json-valide"])


def test_recette_lint_refuses_a_broken_json_schema_at_its_place(tmp_path: Path) -> None:
    broken = tmp_path / "manifeste.schema.json"
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"a": {"minLength": -1}}}
    broken.write_text(json.dumps(document), encoding="utf-8")
    report = lint_file(broken)
    assert [(f.rule, f.severity, f.path) for f in report.findings] == [
        ("schema-json-valide", "error", "/properties/a/minLength")
    ]
    assert report.has_errors
