"""A platform on another machine: the ASP side prepared in advance (`recette certificats`), reachable at
`callback.listen`, with OAuth 2.0 on the returns too.

The proof runs the reference as a vendor's platform bound to 127.0.0.2 (its own CA, issuer and client
certificate; its process is checked to listen there alone), the ASP side bound to 127.0.0.3, and the campaign
knows it only through the `recette.toml` of the README's guide and the files `recette certificats` made.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import secrets
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from click.testing import CliRunner, Result

from harness.campaign.asp_side import HANDED_CA, HANDED_SETTINGS, HANDOVER, RETURNS_SCOPE, TLS, AspSide
from harness.campaign.config import load_config
from harness.campaign.environment import TITULAIRE_AUDIENCE
from harness.campaign.receiver import ReturnReceiver
from harness.campaign.results import FAILED, PASSED, CampaignReport
from harness.campaign.runner import RunOptions, run_campaign
from harness.cli import main
from harness.foundations.billing import BillingTags
from harness.foundations.servers import LOOPBACK, BackgroundServer, free_port
from harness.foundations.tls import RunCertificates, server_context, subject_names
from harness.reference.settings import ReferenceSettings, RetryPolicy
from mocks.asp import JOURNAL_FILE
from mocks.oidc import Issuer, RegisteredClient
from mocks.oidc import create_app as create_issuer_app
from tests.builders import valid_retour
from tests.conftest import TESTS_DAY
from tests.helpers import identity_provider, placeholder_config
from tests.test_faults import short_service_contract

PLATFORM_HOST, ASP_HOST = "127.0.0.2", "127.0.0.3"
RECETTE = [sys.executable, "-m", "harness.cli"]
RETURNS = "Chaque dépôt de l'exécution a son unique retour conforme"
TOKENS, TOKENS_TEST = "Chaque retour de la plateforme porte un jeton", "les_retours_portent_un_jeton_valide"


def recette(*arguments: str, cwd: Path, secret: str = "") -> subprocess.CompletedProcess[str]:
    environ = os.environ | ({"RECETTE_CLIENT_SECRET": secret} if secret else {})
    return subprocess.run([*RECETTE, *arguments], capture_output=True, text=True, timeout=300, cwd=cwd, env=environ)


# -- recette certificats ---------------------------------------------------------------------------------


def certificats(config: Path | str) -> Result:
    """`recette certificats --config CONFIG`, in this process."""
    return CliRunner().invoke(main, ["certificats", "--config", str(config)])


def callback_only(path: Path, url: str, listen: str | None = None) -> Path:
    listen_line = f'listen = "{listen}"\n' if listen else ""
    path.write_text(f'[callback]\nurl = "{url}"\ndir = "cote-asp"\n{listen_line}', encoding="utf-8")
    return path


def test_the_asp_side_is_prepared_once_and_reused(tmp_path: Path) -> None:
    config = callback_only(tmp_path / "recette.toml", "https://retours.asp.example:8443", f"{ASP_HOST}:8443")

    first = certificats(str(config))
    ca = (tmp_path / "cote-asp" / TLS / "ca.pem").read_bytes()
    again = certificats(str(config))

    assert first.exit_code == again.exit_code == 0, first.output + again.output
    assert (tmp_path / "cote-asp" / TLS / "ca.pem").read_bytes() == ca, "the CA the vendor trusts stays"
    handed = json.loads((tmp_path / "cote-asp" / HANDOVER / HANDED_SETTINGS).read_text(encoding="utf-8"))
    assert handed["point_de_jeton"] == "https://retours.asp.example:8443/oidc/token"
    assert handed["audience"] == "https://retours.asp.example:8443"
    assert handed["portee"] == "retours:ecrire"
    assert handed["client_secret"] not in first.stdout
    assert "https://retours.asp.example:8443/v1/retours" in first.stdout
    assert {"retours.asp.example", ASP_HOST} <= subject_names(tmp_path / "cote-asp" / TLS / "server.crt.pem")
    private = [*(tmp_path / "cote-asp").rglob("*.key.pem"), *(tmp_path / "cote-asp").rglob("*.json")]
    assert private
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in private)


def test_a_new_host_reissues_the_server_certificate_from_the_same_ca(tmp_path: Path) -> None:
    certificats(str(callback_only(tmp_path / "a.toml", "https://a.asp.example")))
    ca = (tmp_path / "cote-asp" / TLS / "ca.pem").read_bytes()

    result = certificats(callback_only(tmp_path / "b.toml", "https://b.asp.example"))

    assert result.exit_code == 0, result.output
    assert (tmp_path / "cote-asp" / TLS / "ca.pem").read_bytes() == ca
    assert "b.asp.example" in subject_names(tmp_path / "cote-asp" / TLS / "server.crt.pem")


def test_with_the_asp_identity_provider_certificats_hands_over_no_return_client_of_ours(tmp_path: Path) -> None:
    config = callback_only(tmp_path / "recette.toml", "https://retours.asp.example")
    config.write_text(
        config.read_text(encoding="utf-8") + 'issuer = "https://idp.asp.example/realms/recette"\n', encoding="utf-8"
    )

    result = certificats(str(config))
    config.write_text(config.read_text(encoding="utf-8").replace("https://idp", "http://idp"), encoding="utf-8")
    refused = certificats(str(config))

    assert result.exit_code == 0, result.output
    assert "Émetteur (OIDC) : https://idp.asp.example/realms/recette (fournisseur d'identité de l'ASP" in result.stdout
    assert HANDED_SETTINGS not in result.stdout.split("ne sert pas")[-1]
    assert "Client des retours" not in result.stdout
    assert refused.exit_code == 2
    assert "callback.issuer (RECETTE_CALLBACK_ISSUER) : une URL https:// est attendue" in refused.stderr


def test_without_callback_dir_certificats_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "recette.toml"
    config.write_text('[callback]\nurl = "https://retours.asp.example"\n', encoding="utf-8")

    result = certificats(str(config))

    assert result.exit_code == 2
    assert "réglage manquant : callback.dir (RECETTE_CALLBACK_DIR)" in result.stderr


# -- the receiver refuses returns without a valid token --------------------------------------------------


@dataclass
class AspSideRunning:
    receiver: ReturnReceiver
    side: AspSide
    url: str

    def post(self, headers: dict[str, str]) -> httpx.Response:
        return post_return(self.side, self.url, headers)

    def token(self, **claims: Any) -> dict[str, str]:
        assert self.receiver.issuer is not None
        return {"Authorization": f"Bearer {self.receiver.issuer.issue(self.side.client.client_id, **claims)}"}


def post_return(side: AspSide, url: str, headers: dict[str, str]) -> httpx.Response:
    pair = side.certs.titulaire_client  # signed by the ASP CA, which the receiver trusts
    with httpx.Client(verify=side.certs.client_context(pair), timeout=10) as http:
        return http.post(f"{url}/v1/retours", json=valid_retour(), headers=headers)


@pytest.fixture
def asp_side(tmp_path: Path) -> Iterator[AspSideRunning]:
    port = free_port(ASP_HOST)
    url = f"https://{ASP_HOST}:{port}"
    side = AspSide.provision(tmp_path / "cote-asp", url, ASP_HOST)
    certs = side.certs
    config = placeholder_config(
        certs,
        url,
        callback_dir=side.directory,
        callback_listen=f"{ASP_HOST}:{port}",
        smtp_listen=f"{ASP_HOST}:{free_port(ASP_HOST)}",
    )
    with ReturnReceiver(config, tmp_path, tmp_path / "asp" / JOURNAL_FILE) as receiver:
        yield AspSideRunning(receiver, side, url)


def test_a_return_with_a_token_of_the_asp_side_issuer_is_acknowledged(asp_side: AspSideRunning) -> None:
    settings = asp_side.side.returns_settings()
    verify = asp_side.side.certs.client_context(asp_side.side.certs.titulaire_client)
    with httpx.Client(verify=verify, timeout=10) as http:
        discovery = http.get(f"{settings['emetteur']}/.well-known/openid-configuration").json()
        answer = http.post(
            discovery["token_endpoint"],
            data={"grant_type": "client_credentials", "scope": settings["portee"]},
            auth=(settings["client_id"], settings["client_secret"]),
        )
    token = answer.json()["access_token"]

    response = asp_side.post({"Authorization": f"Bearer {token}"})

    assert discovery["issuer"] == f"{asp_side.url}/oidc"
    assert response.status_code == 202, response.text


def test_with_the_asp_identity_provider_the_receiver_demands_its_tokens_and_serves_no_issuer(tmp_path: Path) -> None:
    port = free_port(ASP_HOST)
    url = f"https://{ASP_HOST}:{port}"
    side = AspSide.provision(tmp_path / "cote-asp", url, ASP_HOST)
    provider_certs = RunCertificates.create(tmp_path / "fournisseur")
    client = RegisteredClient("titulaire-chez-l-asp", "s", (RETURNS_SCOPE,), url)
    with identity_provider(provider_certs, client) as provider:
        config = placeholder_config(
            side.certs,
            url,
            callback_dir=side.directory,
            callback_listen=f"{ASP_HOST}:{port}",
            smtp_listen=f"{ASP_HOST}:{free_port(ASP_HOST)}",
            callback_issuer=provider.url,
            callback_issuer_ca=provider_certs.ca,
        )
        with ReturnReceiver(config, tmp_path, tmp_path / "asp" / JOURNAL_FILE) as receiver:
            ours = Issuer([side.client], signing_key=side.signing_key)  # the ASP-side issuer's own key
            ours.url = side.issuer_url
            accepted = post_return(side, url, {"Authorization": f"Bearer {provider.issue(client.client_id)}"})
            refused = post_return(side, url, {"Authorization": f"Bearer {ours.issue(side.client.client_id)}"})
            with httpx.Client(verify=side.certs.client_context(side.certs.titulaire_client)) as http:
                discovery = http.get(f"{side.issuer_url}/.well-known/openid-configuration")
            announced = receiver.announcement()

    assert accepted.status_code == 202, accepted.text
    assert (refused.status_code, refused.json()["code"]) == (401, "jeton-invalide")
    assert discovery.status_code != 200, "the ASP-side issuer is not served beside the ASP's provider"
    assert any(f"{provider.url} (fournisseur d'identité de l'ASP" in line for line in announced)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ("none", "authentification-requise"),
        ("other-audience", "jeton-invalide"),
        ("expired", "jeton-invalide"),
        ("other-scope", "droits-insuffisants"),
    ],
)
def test_a_return_without_a_valid_token_is_refused_and_recorded(
    asp_side: AspSideRunning, tmp_path: Path, headers: str, code: str
) -> None:
    sent = {
        "none": {},
        "other-audience": asp_side.token(aud="https://autre-api.asp.example"),
        "expired": asp_side.token(exp=1_000_000_000, iat=999_999_000, nbf=999_999_000),
        "other-scope": asp_side.token(scope="depots:lire"),
    }[headers]

    response = asp_side.post(sent)

    assert response.status_code in (401, 403)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    with asp_side.receiver.inspector() as inspector:
        (call,) = inspector.received()
    assert call["violations"] == [code]
    journal = tmp_path / "asp" / JOURNAL_FILE
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600


def test_without_callback_dir_the_receiver_listens_where_told_and_warns(tmp_path: Path) -> None:
    certs = RunCertificates.create(tmp_path / "fournies")
    port = free_port(ASP_HOST)
    config = placeholder_config(
        certs,
        f"https://retours.asp.example:{port}",
        callback_listen=f"{ASP_HOST}:{port}",
    )
    with ReturnReceiver(config, tmp_path / "tls", tmp_path / JOURNAL_FILE) as receiver:
        with receiver.inspector() as inspector:
            assert inspector.received() == []
        shown = receiver.announcement()

    assert shown[0].endswith(f"(écoute {ASP_HOST}:{port})")
    assert "callback.dir absent" in shown[-1]
    assert receiver.issuer is None


def test_a_folder_not_prepared_stops_the_run_with_what_to_do(tmp_path: Path) -> None:
    certs = RunCertificates.create(tmp_path / "tls")
    config = placeholder_config(
        certs,
        "https://127.0.0.3:8443",
        callback_dir=tmp_path / "absent",
    )
    with pytest.raises(Exception, match="recette certificats"):
        ReturnReceiver(config, tmp_path)


# -- recette serve --cote-asp ---------------------------------------------------------------------------


def test_serve_cote_asp_runs_the_asp_side_alone_until_interrupted(tmp_path: Path) -> None:
    asp = f"{ASP_HOST}:{free_port(ASP_HOST)}"
    side = AspSide.provision(tmp_path / "cote-asp", f"https://{asp}", ASP_HOST)
    config = tmp_path / "recette.toml"
    text = guide(2, "titulaire.example", "idp.example", asp, f"{ASP_HOST}:0")
    config.write_text(text.replace("titulaire/ac-titulaire.pem", "cote-asp/tls/ca.pem"), encoding="utf-8")
    command = [*RECETTE, "serve", "--cote-asp", "--config", str(config), "--dir", str(tmp_path / "session")]
    environ = os.environ | {"RECETTE_CLIENT_SECRET": "s"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ) as serving:
        assert serving.stdout is not None
        shown = [serving.stdout.readline() for _ in range(4)]
        refused = post_return(side, f"https://{asp}", {})
        serving.send_signal(signal.SIGINT)
        rest, errors = serving.communicate(timeout=30)

    assert serving.returncode == 0, errors
    assert shown[0].startswith(f"Récepteur de retours   : https://{asp}/v1/retours (écoute {asp})"), shown
    assert shown[1].startswith(f"Émetteur des retours   : https://{asp}/oidc"), shown
    assert refused.status_code == 401
    assert "Côté ASP arrêté." in rest
    assert (tmp_path / "session" / "asp" / JOURNAL_FILE).read_text(encoding="utf-8").count('"ligne":"appel"') == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--cote-asp"], "--cote-asp demande --config recette.toml (ou RECETTE_CONFIG)"),
        (["--config", "recette.toml"], "--config ne sert qu'avec --cote-asp"),
    ],
)
def test_serve_refuses_a_cote_asp_without_its_configuration(
    arguments: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECETTE_CONFIG", raising=False)

    result = CliRunner().invoke(main, ["serve", *arguments])

    assert result.exit_code == 2
    assert message in result.output


# -- the proof: a platform on 127.0.0.2, the ASP side on 127.0.0.3 ---------------------------------------


GUIDE_ADDRESSES = ("127.0.0.2:9443", "127.0.0.2:9444", "127.0.0.3:8443", "127.0.0.3:8444")
"""The addresses the README's guide shows: the platform, its issuer, the ASP side, its SMTP catcher."""


def guide(step: int, *addresses: str) -> str:
    """The `recette.toml` of the README guide's `step` (1: the callback alone, 2: the whole), the guide's
    addresses replaced by `addresses` (in `GUIDE_ADDRESSES` order)."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("#### Step by step") :]
    blocks = re.findall(r"```toml\n(.*?)```", section, re.DOTALL)
    text = textwrap.dedent(blocks[step - 1])
    for shown, actual in zip(GUIDE_ADDRESSES, addresses, strict=False):
        text = text.replace(shown, actual)
    return text


TRUSTED = "ac-approuvees.pem"
"""The vendor's trust store: its own CA and the ASP side's (handed over)."""


@dataclass
class VendorPlatform:
    """What the vendor hands to the recette team: its URL, its CA, its issuer and the ASP's client there."""

    url: str
    issuer_url: str
    secret: str
    pid: int


def vendor_settings(
    folder: Path, certs: RunCertificates, handover: Path, issuer_url: str, smtp: str, faults: tuple[str, ...]
) -> ReferenceSettings:
    """The reference configured as a vendor would from the handover: the ASP side's CA trusted beside its own,
    returns to the URL handed over, tokens from the ASP-side issuer, incident mails to the ASP's catcher."""
    returns = json.loads((handover / HANDED_SETTINGS).read_text(encoding="utf-8"))
    return ReferenceSettings(
        data_dir=folder / "donnees",
        callback_url=returns["url_retours"],
        ca_file=folder / TRUSTED,
        client_cert=certs.titulaire_client.cert,
        client_key=certs.titulaire_client.key,
        issuer_url=issuer_url,
        audience=TITULAIRE_AUDIENCE,
        callback_token_url=returns["point_de_jeton"],
        callback_client_id=returns["client_id"],
        callback_client_secret=returns["client_secret"],
        retry=RetryPolicy(budget_seconds=10.0, max_delay_seconds=2.0),
        smtp_host=smtp.rpartition(":")[0],
        smtp_port=int(smtp.rpartition(":")[2]),
        faults=faults,
    )


@contextmanager
def vendor_platform(folder: Path, handover: Path, smtp: str, faults: tuple[str, ...] = ()) -> Iterator[VendorPlatform]:
    """The reference as a vendor's platform on 127.0.0.2: its own CA (server and client certificates) and issuer,
    in another process for the API."""
    certs = RunCertificates.create(folder / "tls", (PLATFORM_HOST,))
    (folder / "ac-titulaire.pem").write_bytes(certs.ca.read_bytes())
    secret = secrets.token_urlsafe(16)
    issuer = Issuer([RegisteredClient("asp-recette", secret, ("depots:ecrire", "depots:lire"), TITULAIRE_AUDIENCE)])
    (folder / TRUSTED).write_bytes(certs.ca.read_bytes() + (handover / HANDED_CA).read_bytes())
    trusted = server_context(folder / TRUSTED, certs.server)  # the ASP's client certificate, and its own
    with ExitStack() as stack:
        server = stack.enter_context(BackgroundServer(create_issuer_app(issuer), trusted, "idp", host=PLATFORM_HOST))
        issuer.url = server.url
        settings = vendor_settings(folder, certs, handover, issuer.url, smtp, faults)
        (folder / "reglages.json").write_text(json.dumps(settings.to_json()), encoding="utf-8")
        port = free_port(PLATFORM_HOST)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness.reference",
                str(folder / "reglages.json"),
                "--host",
                PLATFORM_HOST,
                "--port",
                str(port),
                "--server-cert",
                str(certs.server.cert),
                "--server-key",
                str(certs.server.key),
                "--date",
                TESTS_DAY.isoformat(),
            ]
        )
        stack.callback(process.wait, 15)
        stack.callback(process.terminate)
        wait_until_listening(process, port)
        yield VendorPlatform(f"{PLATFORM_HOST}:{port}", f"{PLATFORM_HOST}:{server.port}", secret, process.pid)


def wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    """Until the process listens on `port` (bounded by the reference's own start-up)."""
    for _ in range(300):
        if any(c.laddr.port == port for c in psutil.Process(process.pid).net_connections("tcp")):
            return
        assert process.poll() is None, "the reference did not start"
        subprocess.run(["sleep", "0.05"], check=True)
    raise AssertionError(f"the reference does not listen on {port}")


def listening_hosts(pid: int) -> set[str]:
    return {c.laddr.ip for c in psutil.Process(pid).net_connections("tcp") if c.status == psutil.CONN_LISTEN}


@contextmanager
def guided(
    tmp_path: Path, faults: tuple[str, ...] = (), provider: AspProvider | None = None
) -> Iterator[tuple[VendorPlatform, str]]:
    """The README's guide: `recette certificats`, the vendor's platform configured from the handover, then the
    guide's `recette.toml` (in `tmp_path`); the platform and the ASP side's address. With the ASP's identity
    `provider`, the return client handed over is the one registered there."""
    asp, smtp = f"{ASP_HOST}:{free_port(ASP_HOST)}", f"{ASP_HOST}:{free_port(ASP_HOST)}"
    config = tmp_path / "recette.toml"
    config.write_text(guide(1, "", "", asp), encoding="utf-8")
    made = certificats(str(config))
    assert made.exit_code == 0, made.output
    handover = tmp_path / "cote-asp" / HANDOVER
    if provider is not None:
        hand_over_the_provider_s_client(handover, provider, f"https://{asp}")
    with vendor_platform(tmp_path / "titulaire", handover, smtp, faults) as platform:
        config.write_text(guide(2, platform.url, platform.issuer_url, asp, smtp), encoding="utf-8")
        yield platform, asp
        assert listening_hosts(platform.pid) == {PLATFORM_HOST}


@dataclass
class AspProvider:
    """The ASP's own identity provider, and the CA of its TLS certificate."""

    issuer: Issuer
    ca: Path


def hand_over_the_provider_s_client(handover: Path, provider: AspProvider, callback_url: str) -> None:
    """The ASP registers the titulaire's return client at its identity provider and hands it over instead of the
    ASP-side issuer's (the provider's CA beside the ASP side's)."""
    client = RegisteredClient("titulaire-chez-l-asp", secrets.token_urlsafe(16), (RETURNS_SCOPE,), callback_url)
    provider.issuer.clients[client.client_id] = client
    settings = json.loads((handover / HANDED_SETTINGS).read_text(encoding="utf-8"))
    settings |= {"point_de_jeton": f"{provider.issuer.url}/token", "emetteur": provider.issuer.url}
    settings |= {"client_id": client.client_id, "client_secret": client.client_secret}
    (handover / HANDED_SETTINGS).write_text(json.dumps(settings), encoding="utf-8")
    with (handover / HANDED_CA).open("a", encoding="utf-8") as trusted:
        trusted.write(provider.ca.read_text(encoding="utf-8"))


def remote_campaign(
    tmp_path: Path,
    faults: tuple[str, ...] = (),
    service_contract: Path | None = None,
    keywords: str = f"initial_est or chaque_depot_a_un_retour_conforme or {TOKENS_TEST}",
    suites: tuple[str, ...] = ("bdd", "contrat"),
    provider: AspProvider | None = None,
) -> tuple[CampaignReport, str]:
    """A small campaign on the vendor's platform, as the guide configures it: its report, the ASP side's address.
    With the ASP's identity `provider`, the returns carry its tokens (`callback.issuer`)."""
    with guided(tmp_path, faults, provider) as (platform, asp):
        environ = {"RECETTE_CLIENT_SECRET": platform.secret}
        if provider is not None:
            environ |= {"RECETTE_CALLBACK_ISSUER": provider.issuer.url, "RECETTE_CALLBACK_ISSUER_CA": str(provider.ca)}
        run = load_config(tmp_path / "recette.toml", environ)
        options = RunOptions(tmp_path / "rapports", BillingTags.create("build:distante"), suites)
        options = dataclasses.replace(options, keywords=keywords, day=TESTS_DAY, service_contract=service_contract)
        report = run_campaign(dataclasses.replace(options, config=run))
    return report, asp


@pytest.mark.slow
def test_a_platform_on_another_address_is_qualified_with_tokens_on_its_returns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, asp = remote_campaign(tmp_path)

    assert report.qualified, [f"{r.scenario} : {r.failed_step} {r.evidence[-1:]}" for r in report.failures]
    assert {r.outcome for r in report.results if r.scenario.startswith((RETURNS, TOKENS))} == {PASSED}
    assert f"écoute {asp}" in capsys.readouterr().out
    run_dir = tmp_path / "rapports" / report.tags.run_id
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    journal = run_dir / "asp" / JOURNAL_FILE
    lines = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    calls = [line["appel"] for line in lines if line["ligne"] == "appel"]
    assert calls
    assert all(call["statutHttp"] == 202 and call["valide"] for call in calls), calls
    assert summary["empreintePreuves"] == hashlib.sha256(journal.read_bytes()).hexdigest()
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert not list(run_dir.rglob("*.key.pem")), "private keys never go into the reports"


@pytest.mark.slow
def test_a_platform_taking_its_return_tokens_from_the_asp_identity_provider_is_qualified(tmp_path: Path) -> None:
    certs = RunCertificates.create(tmp_path / "fournisseur-asp")
    with identity_provider(certs) as issuer:
        report, _ = remote_campaign(tmp_path, provider=AspProvider(issuer, certs.ca))
        tokens_served = issuer.tokens_issued["titulaire-chez-l-asp"]

    assert report.qualified, [f"{r.scenario} : {r.failed_step} {r.evidence[-1:]}" for r in report.failures]
    assert {r.outcome for r in report.results if r.scenario.startswith((RETURNS, TOKENS))} == {PASSED}
    assert tokens_served >= 1, "the platform took its return tokens from the ASP's provider"
    assert any(check.startswith("Fournisseur d'identité de l'ASP joignable") for check in report.preflight)


@pytest.mark.slow
def test_a_platform_posting_its_returns_without_a_token_fails_the_return_direction(tmp_path: Path) -> None:
    report, _ = remote_campaign(tmp_path, ("retour-sans-jeton",), short_service_contract())  # judged after 3 s

    judged = [r for r in report.results if r.scenario.startswith((RETURNS, TOKENS))]
    assert not report.qualified
    assert len(judged) == 2
    assert {r.outcome for r in judged} == {FAILED}
    for result in judged:
        assert any("retour-authentifie : " in line and "authentification-requise" in line for line in result.evidence)


@pytest.mark.slow
def test_the_incident_mail_of_a_platform_on_another_address_is_caught_by_the_asp_side(tmp_path: Path) -> None:
    report, _ = remote_campaign(tmp_path, keywords="impossible")

    (impossible,) = [r for r in report.results if r.scenario.startswith("Un retour impossible")]
    assert impossible.outcome == PASSED, f"{impossible.failed_step} {impossible.skip_reason} {impossible.evidence}"
    assert any("incidents-recette@asp.example" in line for line in impossible.evidence)


@pytest.mark.slow
def test_a_misaddressed_incident_mail_of_a_platform_on_another_address_fails_the_mail_check(tmp_path: Path) -> None:
    report, _ = remote_campaign(tmp_path, ("courriel-incident-mal-adresse",), keywords="impossible")

    (impossible,) = [r for r in report.results if r.scenario.startswith("Un retour impossible")]
    assert not report.qualified
    assert impossible.outcome == FAILED
    assert impossible.failed_step == "Et un courriel d'incident alerte l'ASP"


@pytest.mark.slow
@pytest.mark.parametrize("faults", [(), ("certificat-expire-accepte",)], ids=["conforme", "expire-accepte"])
def test_a_platform_accepting_the_asp_side_s_client_certificate_is_shown_an_expired_one(
    tmp_path: Path, faults: tuple[str, ...]
) -> None:
    report, _ = remote_campaign(tmp_path, faults, keywords="client and expir", suites=("securite",))

    (expired,) = report.results
    assert expired.scenario.endswith("Certificat client expiré refusé")
    assert expired.outcome == (FAILED if faults else PASSED), (expired.skip_reason, expired.evidence)
    if faults:
        assert any("connexion acceptée avec un certificat client expiré" in line for line in expired.evidence)


def test_only_the_asp_side_s_own_client_certificate_lends_its_ca_to_the_security_suite(tmp_path: Path) -> None:
    side = AspSide.provision(tmp_path / "cote-asp", "https://retours.asp.example", LOOPBACK)
    ours = placeholder_config(side.certs, "https://retours.asp.example", callback_dir=side.directory)
    other = RunCertificates.create(tmp_path / "autre-ac")
    theirs = ours.model_copy(update={"client_cert": other.asp_client.cert, "client_key": other.asp_client.key})
    without_dir = ours.model_copy(update={"callback_dir": None})

    assert ReturnReceiver(ours, tmp_path / "a").client_authority() == side.certs.authority
    assert ReturnReceiver(theirs, tmp_path / "b").client_authority() is None
    assert ReturnReceiver(without_dir, tmp_path / "c").client_authority() is None


@pytest.mark.slow
def test_a_load_on_a_platform_on_another_address_measures_its_return_delays(tmp_path: Path) -> None:
    with guided(tmp_path) as (platform, asp):
        result = recette(
            "load", "--config", "recette.toml", "--report-dir", "rapports", "--duration", "3s", "--users", "1",
            "--limit-bytes", "120000", cwd=tmp_path, secret=platform.secret,
        )  # fmt: skip

    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert f"écoute {asp}" in result.stdout
    (run_dir,) = [path for path in (tmp_path / "rapports").iterdir() if path.is_dir()]
    qos = json.loads((run_dir / "charge" / "qos.json").read_text(encoding="utf-8"))
    (returns,) = [e for e in qos["operations"] if e["methode"] == "RETOUR"]
    assert returns["requetes"] > 0
    assert returns["echecs"] == 0, "every return reached the ASP side, with its token: no failed delivery"
    assert (run_dir / "asp" / JOURNAL_FILE).is_file()
