"""A private fair titulaire (tests/fair_titulaire), and its legitimate variations, are qualified by `recette run
--config` as any real platform is: a harness change that rejects one of them fails here.

The set-up follows the README's guide as a vendor does, for real on 127.0.0.1: `recette certificats` prepares
the ASP side (`callback.dir`, shared by the module); the fair titulaire, with its own CA and issuer, is
configured from the handed-over files (the ASP side's CA to trust, its return client at `{callback.url}/oidc`,
the SMTP catcher for its incident mails); then the campaign knows it only through `recette.toml`.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.campaign.asp_side import HANDED_CA, HANDED_SETTINGS, HANDOVER, TLS
from harness.campaign.config import load_config
from harness.campaign.runner import RunOptions, run_campaign
from harness.foundations.billing import BillingTags
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.foundations.servers import BackgroundServer
from harness.foundations.tls import RunCertificates, server_context
from mocks.oidc import Issuer, RegisteredClient
from mocks.oidc import create_app as create_issuer_app
from tests.fair_titulaire import FairSettings, FairTitulaire, Variation
from tests.helpers import TESTS_DAY, free_port
from tests.test_remote_platform import certificats

AUDIENCE = "https://titulaire-equitable.recette.local"
RETURN_DEADLINE = timedelta(seconds=10)
"""The short `delaiMaxRetour` the fair platform publishes for its recette environment."""
RETENTION = timedelta(seconds=15)
"""Its short recette retention (`conservation.dureeEnRecette`): expiry is observed within the run."""
INCIDENT_MAIL = "incidents-recette@asp.example"
QUALIFIED = {0: "QUALIFIÉ", 3: "QUALIFIÉ AVEC RÉSERVES"}
TRUSTED = "ac-approuvees.pem"
"""The fair titulaire's trust store: its own CA and the ASP side's (handed over)."""


@dataclass
class Vendor:
    """The fair titulaire's own parts, shared by the module: its CA, its trust store and its issuer."""

    directory: Path
    certs: RunCertificates
    issuer: Issuer
    secrets: dict[str, str]

    @property
    def asp_side(self) -> Path:
        """`callback.dir`, prepared by `recette certificats`."""
        return self.directory / "cote-asp"


@dataclass
class FairRun:
    """The started fair titulaire of one qualification, and how to run the campaign on it."""

    directory: Path
    vendor: Vendor
    platform: FairTitulaire
    receiver: str
    smtp: str

    def config(self) -> Path:
        """`recette.toml` for the fair platform (the guide's step 3), with every setting a vendor can give."""
        vendor, path = self.vendor, self.directory / "recette.toml"
        key = vendor.issuer.export_signing_key(self.directory / "cle-de-test.json")
        path.write_text(
            f"""
[target]
url = "{self.platform.url}"
ca = "{vendor.certs.ca}"
service_contract = "{service_contract(self.directory)}"
[client]
cert = "{vendor.asp_side / TLS / "asp-client.crt.pem"}"
key = "{vendor.asp_side / TLS / "asp-client.key.pem"}"
[oauth]
token_url = "{vendor.issuer.url}/token"
client_id = "asp-recette"
read_client_id = "asp-lecture"
test_signing_key = "{key}"
test_key_id = "{vendor.issuer.active_kid}"
{callback(vendor.asp_side, self.receiver)}
[incidents]
mail = "{INCIDENT_MAIL}"
smtp_listen = "{self.smtp}"
""",
            encoding="utf-8",
        )
        return path

    def environ(self) -> dict[str, str]:
        """The secrets, as a recette team passes them (never in the file)."""
        return {
            "RECETTE_CLIENT_SECRET": self.vendor.secrets["asp-recette"],
            "RECETTE_READ_CLIENT_SECRET": self.vendor.secrets["asp-lecture"],
        }

    def run(self, *options: str) -> tuple[int, dict[str, Any]]:
        """`recette run --config` on the platform: the exit code and the summary."""
        command = [sys.executable, "-m", "harness.cli", "run", "--config", str(self.config())]
        command += ["--report-dir", str(self.reports), "--date", TESTS_DAY.isoformat(), *options]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=os.environ | self.environ())
        return result.returncode, self.summary(result.stdout + result.stderr)

    def campaign(self, suites: tuple[str, ...], keywords: str | None) -> tuple[int, dict[str, Any]]:
        """The same campaign on the same `recette.toml`, in this process, narrowed to `keywords` (pytest -k)."""
        config = load_config(self.config(), environ=self.environ())
        tags = BillingTags.create("recette")
        options = RunOptions(self.reports, tags, suites, config=config, keywords=keywords, day=TESTS_DAY)
        return run_campaign(options).verdict.exit_code, self.summary("")

    @property
    def reports(self) -> Path:
        return self.directory / "r"

    def summary(self, output: str) -> dict[str, Any]:
        runs = sorted(p for p in self.reports.iterdir() if p.is_dir()) if self.reports.exists() else []
        assert runs, output
        return dict(json.loads((runs[-1] / "summary.json").read_text(encoding="utf-8")))


def callback(directory: Path, receiver: str) -> str:
    """The `[callback]` table of the guide: the ASP side's public URL, its folder, where it listens."""
    return f'[callback]\nurl = "https://{receiver}"\ndir = "{directory}"\nlisten = "{receiver}"\n'


def prepare_asp_side(directory: Path, asp_side: Path, receiver: str) -> None:
    """The guide's step 1: `recette certificats` on a `recette.toml` holding the `[callback]` table alone."""
    config = directory / "recette.toml"
    config.write_text(callback(asp_side, receiver), encoding="utf-8")
    made = certificats(config)
    assert made.exit_code == 0, made.output


def service_contract(directory: Path) -> Path:
    """The ASP's service contract, as the fair recette environment publishes it: short deadline and retention."""
    document = yaml.safe_load(contract_path(SERVICE_CONTRACT).read_text(encoding="utf-8"))
    document["qualiteDeService"]["delaiMaxRetour"] = f"PT{RETURN_DEADLINE.seconds}S"
    document["conservation"]["dureeEnRecette"] = f"PT{RETENTION.seconds}S"
    path = directory / "contrat-de-service.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vendor]:
    """The ASP side prepared once; the vendor's CA, trust store (the handed CA added) and issuer, started."""
    directory = tmp_path_factory.mktemp("equitable")
    prepare_asp_side(directory, directory / "cote-asp", f"127.0.0.1:{free_port()}")
    certs = RunCertificates.create(directory / "titulaire" / "tls")
    trusted = directory / "titulaire" / TRUSTED
    trusted.write_bytes(certs.ca.read_bytes() + (directory / "cote-asp" / HANDOVER / HANDED_CA).read_bytes())
    keys = {name: secrets.token_urlsafe(16) for name in ("asp-recette", "asp-lecture")}
    issuer = Issuer(
        [
            RegisteredClient("asp-recette", keys["asp-recette"], ("depots:ecrire", "depots:lire"), AUDIENCE),
            RegisteredClient("asp-lecture", keys["asp-lecture"], ("depots:lire",), AUDIENCE),
        ]
    )
    with BackgroundServer(create_issuer_app(issuer), server_context(trusted, certs.server), "oidc") as server:
        issuer.url = server.url
        yield Vendor(directory, certs, issuer, keys)


@pytest.fixture
def fair_run(vendor: Vendor, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FairRun]:
    """The fair titulaire (with the test's `Variation`, indirect parameter), configured from the handover of
    the ASP side at fresh addresses (`recette certificats` again: the same CA, the handover rewritten)."""
    variation: Variation = getattr(request, "param", Variation())
    receiver, smtp = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    prepare_asp_side(tmp_path, vendor.asp_side, receiver)
    certs, trusted = vendor.certs, vendor.directory / "titulaire" / TRUSTED
    settings = FairSettings(
        ca=trusted,
        server_cert=certs.server.cert,
        server_key=certs.server.key,
        client_cert=certs.titulaire_client.cert,
        client_key=certs.titulaire_client.key,
        issuer=vendor.issuer.url,
        audience=AUDIENCE,
        returns=vendor.asp_side / HANDOVER / HANDED_SETTINGS,
        retention=RETENTION,
        smtp=("127.0.0.1", int(smtp.rpartition(":")[2])),
        incident_mail=INCIDENT_MAIL,
        variation=variation,
    )
    with FairTitulaire(settings) as platform:
        yield FairRun(tmp_path, vendor, platform, receiver, smtp)


def failures(summary: dict[str, Any]) -> list[str]:
    return [
        f"{s['suite']} {s['scenario']}: {s.get('message') or ''}"
        for s in summary["scenarios"]
        if s["outcome"] == "echoue"
    ]


UNLIFTABLE = ("nous ne détenons pas la clé de l'AC",)
"""The reservation no setting of `recette.toml` can lift yet: the expired client certificate (no setting gives
the harness the key of the CA the platform accepts client certificates from)."""


def assert_qualified(code: int, summary: dict[str, Any]) -> None:
    """Qualified, with no reservation but the `UNLIFTABLE` ones."""
    assert code in QUALIFIED, failures(summary)
    assert summary["verdict"] == QUALIFIED[code]
    reasons = [r["motif"] for r in summary["reserves"]]
    assert all(r.startswith(UNLIFTABLE) for r in reasons), reasons


@pytest.mark.slow
def test_the_fair_titulaire_is_qualified_on_its_scenarios_and_its_contract(fair_run: FairRun) -> None:
    code, summary = fair_run.run("--suites", "bdd,contrat")
    assert_qualified(code, summary)
    passed = {s["scenario"] for s in summary["scenarios"] if s["outcome"] == "reussi"}
    assert "Passé la durée de conservation, le dépôt est expiré" in passed, "the short retention was observed"
    assert "Un retour refusé par l'ASP est réessayé, puis remis une seule fois après le rétablissement" in passed
    assert "Chaque dépôt de l'exécution a son unique retour conforme" in passed, "the deposit in ECHEC included"
    assert "Chaque retour de la plateforme porte un jeton d'accès valide de l'émetteur de l'ASP" in passed
    assert "Un retour impossible à remettre ouvre un incident et alerte l'ASP par courriel" in passed, "mail caught"


@pytest.mark.slow
def test_the_fair_titulaire_is_qualified_on_security(fair_run: FairRun) -> None:
    code, summary = fair_run.run("--suites", "securite")
    assert_qualified(code, summary)
    assert {s["suite"] for s in summary["scenarios"] if s["outcome"] == "reussi"} == {"securite"}


VARIATIONS = [
    pytest.param(
        Variation(return_delay_seconds=0.6 * RETURN_DEADLINE.total_seconds()),
        ("bdd", "contrat"),
        "initial_est or retransmission_renvoie or remis_une_seule or test_retours",
        id="retours à 60 % du délai",
    ),
    pytest.param(
        Variation(reworded=True),
        ("bdd", "securite"),
        "refuse_la_demande or octet_de_plus or avant_la_lecture or est_expir or test_securite",
        id="title et detail reformulés",
    ),
    pytest.param(
        Variation(defaults_written=True),
        ("bdd", "contrat"),
        "suivre or invente_aucune or porte_chacune or test_retours",
        id="valeurs par défaut écrites",
    ),
    pytest.param(
        Variation(extra_headers=True),
        ("bdd", "securite"),
        "initial_est or test_securite",
        id="en-têtes en plus",
    ),
    pytest.param(
        Variation(reversed_keys=True),
        ("bdd", "contrat"),
        "rejou or suivre or acquitte_son or test_retours",
        id="clés dans un autre ordre",
    ),
    pytest.param(
        Variation(utc_offset=timedelta(hours=1)),
        ("bdd", "contrat"),
        "rejou or acquitte_son or retransmission_renvoie or test_retours",
        id="dates en +01:00",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("fair_run", "suites", "keywords"), VARIATIONS, indirect=["fair_run"])
def test_a_legitimate_variation_is_qualified(fair_run: FairRun, suites: tuple[str, ...], keywords: str) -> None:
    """Each variation, on the campaign that exercises the judges it could upset, is qualified."""
    code, summary = fair_run.campaign(suites, keywords)
    assert_qualified(code, summary)
    ran = {s["suite"] for s in summary["scenarios"] if s["outcome"] == "reussi"}
    assert ran == set(suites), f"nothing ran in {set(suites) - ran}"
