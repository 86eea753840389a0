"""`recette proxy`: the reference driven through the proxy on both legs, for real (mitmproxy in its own
process, mutual TLS both sides), and what its journal, HAR and page then hold."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner
from markupsafe import escape

from harness.campaign.config import ConfigError, ProxyTable, load_config
from harness.campaign.environment import Environment, callback_path
from harness.campaign.runner import RunOptions, run_campaign
from harness.cli import main
from harness.cli.proxy import configured
from harness.foundations.asp_client import AspClient, DepositBody
from harness.foundations.billing import LEDGER_NAME, BillingTags, read_ledger
from harness.foundations.servers import LOOPBACK
from harness.foundations.tokens import ClientCredentialsAuth
from harness.proxy import launcher
from harness.proxy.embedded import embedded_settings
from harness.proxy.exchange import REDACTED, Exchange, redacted_body
from harness.proxy.journal import JOURNAL_FILE, read_journal
from harness.proxy.launcher import ProxyError, ProxyProcess, proxy_python
from harness.proxy.page import write_page
from harness.proxy.settings import READY_FILE, FaultRule, ProxySettings
from tests.conftest import StartEnvironment, metadonnees, pdf, start_environment
from tests.helpers import TESTS_DAY, assert_problem, free_port, wait_until
from tests.test_cli import read_until
from tests.test_external_target import write_config
from tests.test_pv import chromium_or_fail, run_chromium

pytestmark = pytest.mark.skipif(
    not proxy_python().exists() and os.environ.get("CI") != "true",
    reason="make .venv-proxy/.installed (`make test` le fait) ; sous CI, son absence fait échouer ces tests",
)

RUN_ID = "proxy-essai"
LIMIT = 200_000


class Proxied:
    """An embedded environment whose reference posts its returns to the proxy's callback leg (`port`)."""

    def __init__(self, directory: Path, *faults: str) -> None:
        self.directory, self.port = directory, free_port()
        self.env: Environment = start_environment(
            directory / "env", callback_url=f"https://127.0.0.1:{self.port}{callback_path()}", faults=faults
        )
        self.runs = 0

    def settings(self, callback_port: int | None = None, **overrides: Any) -> ProxySettings:
        """Settings of a new proxy run (`recette serve --proxy`'s); `callback_port`: 0 for a proxy the reference
        does not post to."""
        self.runs += 1
        port = self.port if callback_port is None else callback_port
        reports = self.directory / "reports" / f"run-{self.runs}"
        settings = embedded_settings(self.env, reports, BillingTags.create(run_id=RUN_ID), port)
        return dataclasses.replace(settings, **({"max_return_delay_seconds": 30.0} | overrides))

    def client(self, proxy: ProxyProcess) -> AspClient:
        verify = self.env.certs.client_context(self.env.certs.asp_client)
        auth = ClientCredentialsAuth(self.env.credentials(), verify)
        return AspClient(proxy.urls["titulaire"], verify, auth, major=self.env.current_major())


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    setup = Proxied(tmp_path_factory.mktemp("proxy"))
    yield setup
    setup.env.stop()


@pytest.fixture(scope="module")
def proxy(proxied: Proxied) -> Iterator[ProxyProcess]:
    """One proxy for the module's tests that need no stop: bodies over 1 KiB not kept, over 64 KiB streamed, over
    200 kB refused."""
    with ProxyProcess(proxied.settings(body_bytes=1024, limit_bytes=LIMIT, refuse_over_limit=True)) as started:
        yield started


@pytest.fixture(scope="module")
def off_contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    """The reference with `premier-retour-hors-contrat`: each return first posted with a status off contract."""
    setup = Proxied(tmp_path_factory.mktemp("proxy-fault"), "premier-retour-hors-contrat")
    yield setup
    setup.env.stop()


def journal(proxy: ProxyProcess) -> list[dict[str, Any]]:
    return read_journal(proxy.settings.run_dir / JOURNAL_FILE)


def returns_of(run_dir: Path, id_depot: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait for `count` callback-leg lines of `id_depot` in the live journal."""

    def arrived() -> list[dict[str, Any]] | None:
        lines = [line for line in read_journal(run_dir / JOURNAL_FILE) if line["jambe"] == "asp-callback"]
        lines = [line for line in lines if line["idDepot"] == id_depot]
        return lines if len(lines) >= count else None

    return wait_until(arrived, f"{count} retour(s) de {id_depot} dans le journal")


def test_a_deposit_through_the_proxy_is_journaled_on_both_legs(proxied: Proxied, proxy: ProxyProcess) -> None:
    settings = proxy.settings
    with proxied.client(proxy) as client:
        body = client.body(metadonnees(), [pdf()])
        answer = client.send_body(body)
        assert answer.status_code == 202, answer.text
        id_depot = answer.json()["idDepot"]
        (retour,) = returns_of(settings.run_dir, id_depot)
    deposit = next(line for line in journal(proxy) if line["idDepot"] == id_depot)
    assert (deposit["jambe"], deposit["methode"], deposit["statut"]) == ("titulaire", "POST", 202)
    assert deposit["octetsRequete"] == body.size
    assert deposit["octetsReponse"] == len(answer.content)
    assert deposit["transaction"] == {
        "octets": deposit["octetsRequete"] + deposit["octetsReponse"],
        "limiteOctets": LIMIT,
        "depassee": False,
    }
    assert deposit["client"].startswith("CN=asp-client")
    assert retour["client"].startswith("CN=titulaire-client")
    for line in (deposit, retour):
        assert line["etiquettes"] == {"run": RUN_ID, "motif": "recette", "ajouteesParLeProxy": True}
        assert line["violations"] == []
    assert deposit["contrat"] == {"requete": "paramètres conformes", "reponse": "conforme"}, "multipart: not read"
    assert retour["contrat"] == {"requete": "conforme", "reponse": "conforme"}
    assert retour["statut"] == 202
    assert retour["idRetour"]
    assert retour["rapprochement"] == {"idDepot": id_depot, "verdict": "conforme", "defauts": []}
    assert {name.lower(): value for name, value in deposit["entetesRequete"]}["authorization"] == REDACTED
    kept = (settings.run_dir / deposit["fichiers"]["requete"]).read_bytes()
    assert kept == body.content()


def test_a_proxy_keeping_no_body_still_checks_and_reconciles_each_exchange(tmp_path: Path) -> None:
    proxied = Proxied(tmp_path)  # its own reference: the module's proxy holds the shared callback leg
    settings = proxied.settings(body_bytes=0)
    try:
        with ProxyProcess(settings) as proxy, proxied.client(proxy) as client:
            answer = client.send_body(client.body(metadonnees(), [pdf()]))
            assert answer.status_code == 202, answer.text
            id_depot = answer.json()["idDepot"]
            (retour,) = returns_of(settings.run_dir, id_depot)
    finally:
        proxied.env.stop()
    deposit = next(line for line in read_journal(settings.run_dir / JOURNAL_FILE) if line["idDepot"] == id_depot)
    assert deposit["contrat"]["reponse"] == "conforme"
    assert retour["contrat"] == {"requete": "conforme", "reponse": "conforme"}
    assert retour["rapprochement"] == {"idDepot": id_depot, "verdict": "conforme", "defauts": []}
    assert (deposit["fichiers"], retour["fichiers"]) == ({}, {})
    assert not (settings.run_dir / "corps").exists()


def test_a_return_off_contract_is_flagged_in_the_journal_the_har_and_the_page(off_contract: Proxied) -> None:
    settings = off_contract.settings()
    with ProxyProcess(settings) as proxy, off_contract.client(proxy) as client:
        body = client.body(metadonnees(), [pdf()])
        id_depot = client.send_body(body).json()["idDepot"]
        draft, corrected = returns_of(settings.run_dir, id_depot, count=2)
    assert draft["contrat"]["requete"] == "non conforme"
    assert any("corps.statut" in violation for violation in draft["violations"])
    assert corrected["contrat"]["requete"] == "conforme"
    assert corrected["rapprochement"]["verdict"] == "non conforme"
    har = json.loads((settings.run_dir / "journal.har").read_text(encoding="utf-8"))
    entries = har["log"]["entries"]
    flagged = [e for e in entries if e["_recette"]["violations"]]
    assert [e["request"]["url"].endswith(callback_path()) for e in flagged] == [True]
    assert "BROUILLON" in flagged[0]["request"]["postData"]["text"]
    page = (settings.run_dir / "journal.html").read_text(encoding="utf-8")
    assert str(escape(draft["violations"][0])) in page
    assert 'class="hors-contrat"' in page
    assert id_depot in page
    (verdict,) = json.loads((settings.run_dir / "rapprochement.json").read_text(encoding="utf-8"))
    assert (verdict["idDepot"], verdict["verdict"]) == (id_depot, "non conforme")
    (line,) = [row for row in read_ledger(settings.ledger or Path()) if row["idExecution"] == RUN_ID]
    assert (line["depotsEnvoyes"], line["octetsEnvoyes"]) == ("1", str(body.size))


def test_a_client_without_certificate_is_refused(proxied: Proxied, proxy: ProxyProcess) -> None:
    context = ssl.create_default_context(cafile=str(proxied.env.certs.ca))
    with pytest.raises(httpx.TransportError), httpx.Client(verify=context) as anonymous:
        anonymous.get(f"{proxy.urls['titulaire']}/v1/sante")


def test_a_transaction_over_the_limit_is_refused_with_the_references_413(proxied: Proxied, proxy: ProxyProcess) -> None:
    with proxied.client(proxy) as client:
        answer = client.send_body(DepositBody.of_size(metadonnees(), LIMIT + 1))
    problem = assert_problem(answer, 413, "transaction-trop-volumineuse")
    assert problem["limiteOctets"] == LIMIT
    (line,) = [
        line for line in journal(proxy) if line["octetsReponse"] == len(answer.content) and line["statut"] == 413
    ]
    assert line["marques"] == ["limite-depassee", "refusee-413"]


def test_injected_faults_apply_to_their_leg_and_share(proxied: Proxied) -> None:
    rules = ("titulaire:503:0.5", "titulaire:delai:0.5:0.2", "asp-callback:coupure")
    settings = proxied.settings(callback_port=0, faults=tuple(FaultRule.parse(rule) for rule in rules))
    with ProxyProcess(settings) as proxy:
        with proxied.client(proxy) as client:
            answers = [client.health() for _ in range(4)]
        titulaire = proxied.env.certs.client_context(proxied.env.certs.titulaire_client)
        with pytest.raises(httpx.TransportError), httpx.Client(verify=titulaire) as callback:
            callback.post(f"{proxy.urls['asp-callback']}{callback_path()}", json={})
    assert [a.status_code for a in answers] == [200, 503, 200, 503]
    assert_problem(answers[1], 503, "service-indisponible")
    lines = read_journal(settings.run_dir / JOURNAL_FILE)
    health = [line for line in lines if line["chemin"] == "/v1/sante"]
    assert [line["marques"] for line in health] == [[], ["panne-503", "delai-0.2s"], [], ["panne-503", "delai-0.2s"]]
    assert all(line["dureeMs"] >= 200 for line in health if line["marques"])
    (cut,) = [line for line in lines if line["jambe"] == "asp-callback"]
    assert (cut["marques"], cut["statut"]) == (["coupure"], None)


def test_a_transaction_over_the_limit_declared_under_it_is_flagged_not_refused(
    proxied: Proxied, proxy: ProxyProcess
) -> None:
    with proxied.client(proxy) as client:
        answer = client.send_body(DepositBody.of_size(metadonnees(), LIMIT - 10))
    assert answer.status_code == 202, answer.text
    (line,) = [line for line in journal(proxy) if line["idDepot"] == answer.json()["idDepot"] and line["statut"] == 202]
    assert line["marques"] == ["limite-depassee"]
    assert line["transaction"]["depassee"] is True


def test_a_large_body_is_streamed_measured_and_hashed(proxied: Proxied, proxy: ProxyProcess) -> None:
    body = DepositBody.of_size(metadonnees(), LIMIT // 2)
    with proxied.client(proxy) as client:
        answer = client.send_body(body)
    assert answer.status_code == 202, answer.text
    (line,) = [line for line in journal(proxy) if line["idDepot"] == answer.json()["idDepot"] and line["statut"] == 202]
    content = body.content()
    assert line["flux"]["requete"] is True
    assert "requete" not in line["fichiers"]
    assert (line["octetsRequete"], line["empreinteRequete"]) == (len(content), hashlib.sha256(content).hexdigest())


def test_the_proxy_without_its_interpreter_is_a_one_line_error(
    proxied: Proxied, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RECETTE_PROXY_PYTHON", str(tmp_path / "absent"))
    with pytest.raises(ProxyError, match="interpréteur du proxy absent"):
        ProxyProcess(proxied.settings()).start()


def test_a_port_taken_between_its_choice_and_the_bind_is_chosen_anew(
    proxied: Proxied, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process may take a port chosen free before mitmproxy binds it (seen under `make test`)."""
    with socket.create_server((LOOPBACK, 0)) as taken:
        taken_port = taken.getsockname()[1]
        first = iter([taken_port])
        monkeypatch.setattr(launcher, "free_port", lambda: next(first, None) or free_port())
        settings = proxied.settings(callback_port=0)
        with ProxyProcess(settings) as started:
            assert started.urls
            assert all(f":{taken_port}" not in url for url in started.urls.values())
    assert "address already in use" in (settings.run_dir / launcher.LOG_FILE).read_text(encoding="utf-8")


def test_faults_and_secrets_are_read_as_documented() -> None:
    assert FaultRule.parse("asp-callback:delai:1:2.5") == FaultRule("delai", "asp-callback", 1.0, 2.5)
    with pytest.raises(ValueError, match="panne inconnue"):
        FaultRule.parse("titulaire:explosion")
    with pytest.raises(ValueError, match="jambe inconnue"):
        FaultRule.parse("ailleurs:503")
    redacted = redacted_body(b"grant_type=client_credentials&client_secret=s3cr3t")
    assert b"s3cr3t" not in redacted
    assert REDACTED.encode() in redacted
    assert b"abc" not in redacted_body(b'{"access_token": "abc", "expires_in": 60}')


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl n'est pas installé")
def test_serve_with_the_proxy_then_the_printed_curl_journals_both_legs(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    command = [sys.executable, "-m", "harness.cli", "serve", "--proxy", "--state-file", str(state_file)]
    env = os.environ | {"COLUMNS": "400"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path
    )
    try:
        printed = read_until(process, "à travers le proxy")
        printed += "".join(process.stdout.readline() for _ in range(2)) if process.stdout else ""
        state = json.loads(state_file.read_text(encoding="utf-8"))
        assert set(state["proxy"]) == {"titulaire", "asp_callback", "journal"}
        through = printed.split("à travers le proxy", 1)[1].splitlines()[1:3]
        assert through[1].endswith(f"{state['proxy']['titulaire']}/v1/depots")
        deposit = subprocess.run(["bash", "-c", "\n".join(through)], capture_output=True, text=True, timeout=60)
        id_depot = json.loads(deposit.stdout)["idDepot"]
        (retour,) = returns_of(Path(state["proxy"]["journal"]).parent, id_depot)
        assert retour["rapprochement"]["verdict"] == "conforme"
        assert retour["etiquettes"]["ajouteesParLeProxy"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert (Path(state["proxy"]["journal"]).parent / "journal.html").is_file()
    (line,) = read_ledger(tmp_path / "reports" / LEDGER_NAME)
    assert (line["depotsEnvoyes"], line["facturable"]) == ("1", "non"), "the embedded reference is not billable"


def test_a_bad_fault_is_a_one_line_error_before_anything_starts(proxied: Proxied) -> None:
    certs = proxied.env.certs
    pems = {
        "--ca": certs.ca,
        "--cert": certs.server.cert,
        "--key": certs.server.key,
        "--asp-cert": certs.asp_client.cert,
        "--asp-key": certs.asp_client.key,
        "--titulaire-cert": certs.titulaire_client.cert,
        "--titulaire-key": certs.titulaire_client.key,
    }
    arguments = [item for flag, path in pems.items() for item in (flag, str(path))]
    urls = ["--titulaire", proxied.env.titulaire_url, "--callback", proxied.env.callback_server.url]
    result = CliRunner().invoke(main, ["proxy", *arguments, *urls, "--panne", "titulaire:explosion"])
    assert result.exit_code == 2
    assert "panne inconnue « explosion »" in result.output


def exchange_line(
    number: int, status: int, run: str, violations: list[str], id_depot: str | None = None
) -> dict[str, Any]:
    exchange = Exchange(number, "asp-callback", datetime(2026, 12, 15, 12, tzinfo=UTC), "POST", "/v1/retours", None)
    exchange.status, exchange.run, exchange.violations, exchange.id_depot = status, run, violations, id_depot
    return exchange.line(20_000_000)


@pytest.mark.slow
def test_the_journal_page_filters_by_status_and_run_in_a_real_headless_browser(tmp_path: Path) -> None:
    chromium = chromium_or_fail()
    lines = [
        exchange_line(1, 422, "run-a", ["requête : corps.statut — valeur hors contrat"]),
        exchange_line(2, 202, "run-a", [], "depot-1"),
        exchange_line(3, 202, "run-b", [], "depot-2"),
    ]
    page = write_page(lines, tmp_path)
    address = f"{page.resolve().as_uri()}?statut=202&run=run-a"
    dom = run_chromium(chromium, tmp_path / "profil", "--dump-dom", address).stdout
    rows = re.findall(r'<tr data-run="([^"]*)" data-statut="(\d+)"([^>]*)>', dom)
    assert [(run, status, "display: none" in rest) for run, status, rest in rows] == [
        ("run-a", "422", True),
        ("run-a", "202", False),
        ("run-b", "202", True),
    ]
    assert "corps.statut — valeur hors contrat" in dom
    address = f"{page.resolve().as_uri()}?idDepot=depot-2"  # the PV's link from a failure to its deposit
    dom = run_chromium(chromium, tmp_path / "profil", "--dump-dom", address).stdout
    rows = re.findall(r'<tr data-run="[^"]*" data-statut="\d+" data-depot="([^"]*)"([^>]*)>', dom)
    assert [(depot, "display: none" in rest) for depot, rest in rows] == [
        ("", True),
        ("depot-1", True),
        ("depot-2", False),
    ]


@pytest.mark.slow
def test_recette_proxy_in_front_of_a_platform_journals_until_stopped(tmp_path: Path) -> None:
    setup = Proxied(tmp_path / "plateforme")
    certs, env = setup.env.certs, setup.env
    try:
        pems = [
            *("--ca", str(certs.ca), "--cert", str(certs.server.cert), "--key", str(certs.server.key)),
            *("--asp-cert", str(certs.asp_client.cert), "--asp-key", str(certs.asp_client.key)),
            *("--titulaire-cert", str(certs.titulaire_client.cert), "--titulaire-key", str(certs.titulaire_client.key)),
        ]
        legs = ["--titulaire", env.titulaire_url, "--callback", env.callback_server.url]
        command = [sys.executable, "-m", "harness.cli", "proxy", *pems, *legs, "--port-callback", str(setup.port)]
        command += ["--report-dir", str(tmp_path / "reports"), "--motif", "evolution:EVO-7"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            printed = read_until(process, "Ctrl-C")
            url = re.search(r"devant le titulaire\s+: (\S+)", printed)
            assert url, printed
            verify = certs.client_context(certs.asp_client)
            auth = ClientCredentialsAuth(env.credentials(), verify)
            with AspClient(url.group(1), verify, auth, major=env.current_major()) as client:
                id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
            (run_dir,) = (tmp_path / "reports").glob("*/")
            (retour,) = returns_of(run_dir, id_depot)
            process.send_signal(signal.SIGINT)
            out, _ = process.communicate(timeout=60)
            assert process.returncode == 0, out
        finally:
            if process.poll() is None:
                process.kill()
    finally:
        env.stop()
    assert retour["etiquettes"]["motif"] == "evolution:EVO-7"
    assert "journal.html" in out
    assert (run_dir / "journal.har").is_file()
    (line,) = read_ledger(tmp_path / "reports" / LEDGER_NAME)
    assert (line["motif"], line["facturable"], line["depotsEnvoyes"]) == ("evolution:EVO-7", "non", "1")


@pytest.mark.slow
def test_run_with_the_journal_keeps_the_campaign_s_exchanges_in_its_reports(tmp_path: Path) -> None:
    tags = BillingTags.create("recette")
    options = RunOptions(tmp_path, tags, ("bdd",), keywords="initial_est", day=TESTS_DAY, journal=True)
    report = run_campaign(options)
    assert report.verdict.exit_code == 0
    run_dir = tmp_path / tags.run_id
    lines = read_journal(run_dir / JOURNAL_FILE)
    deposits = [line for line in lines if line["jambe"] == "titulaire" and line["statut"] == 202 and line["idDepot"]]
    assert deposits, "the campaign's deposits went through the proxy"
    assert {(line["etiquettes"]["run"], line["etiquettes"]["motif"]) for line in lines} == {(tags.run_id, "recette")}
    assert not any(line["etiquettes"]["ajouteesParLeProxy"] for line in lines if line["jambe"] == "titulaire")
    verdicts = json.loads((run_dir / "rapprochement.json").read_text(encoding="utf-8"))
    assert {v["idDepot"] for v in verdicts} >= {d["idDepot"] for d in deposits}
    assert {v["verdict"] for v in verdicts} == {"conforme"}
    assert (run_dir / "journal.html").is_file()
    assert (run_dir / "pv-recette.html").is_file()


def test_the_proxy_table_of_recette_toml_is_read_and_checked(new_environment: StartEnvironment, tmp_path: Path) -> None:
    env = new_environment()
    config = tmp_path / "recette.toml"
    write_config(env, free_port(), config)
    secret = {"RECETTE_CLIENT_SECRET": "s"}
    assert load_config(config, environ=secret).proxy is None, "no table: the defaults"
    table = '[proxy]\necoute_titulaire = "127.0.0.2:0"\ncorps_max = 10\nrefuser_hors_limite = true\n'
    config.write_text(config.read_text(encoding="utf-8") + table, encoding="utf-8")
    assert load_config(config, environ=secret).proxy == ProxyTable(
        ecoute_titulaire="127.0.0.2:0", corps_max=10, refuser_hors_limite=True
    )
    config.write_text(config.read_text(encoding="utf-8").replace("corps_max = 10", "corps = 10"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^proxy\.\* \(RECETTE_PROXY\) : \[proxy\] corps : "):
        load_config(config, environ=secret)
    from_variable = load_config(config, environ={**secret, "RECETTE_PROXY": '{"ecoute_retour": "127.0.0.1:9"}'})
    assert from_variable.proxy == ProxyTable(ecoute_retour="127.0.0.1:9")


@pytest.mark.slow
def test_run_with_the_journal_on_a_real_platform_goes_through_the_titulaire_leg(
    new_environment: StartEnvironment, tmp_path: Path
) -> None:
    env = new_environment(callback_url=f"https://127.0.0.1:{free_port()}/v1/retours")
    config_file = tmp_path / "recette.toml"
    write_config(env, urlsplit(env.titulaire.settings.callback_url).port or 443, config_file)
    port = free_port()
    table = f'[proxy]\necoute_titulaire = "127.0.0.1:{port}"\n'
    config_file.write_text(config_file.read_text(encoding="utf-8") + table, encoding="utf-8")
    config = load_config(config_file, environ={"RECETTE_CLIENT_SECRET": env.credentials().client_secret})
    tags = BillingTags.create("recette")
    options = RunOptions(tmp_path, tags, ("bdd",), keywords="initial_est", day=TESTS_DAY, config=config, journal=True)
    report = run_campaign(options)
    assert report.verdict.exit_code in (0, 3)
    run_dir = tmp_path / tags.run_id
    assert json.loads((run_dir / READY_FILE).read_text(encoding="utf-8")) == {"titulaire": f"https://127.0.0.1:{port}"}
    lines = read_journal(run_dir / JOURNAL_FILE)
    deposits = [line for line in lines if line["statut"] == 202 and line["idDepot"]]
    assert deposits, "the campaign's deposits went through the proxy to the platform"
    assert {line["jambe"] for line in lines} == {"titulaire"}
    assert all(line["client"].startswith("CN=asp-client,") for line in lines), "the run's certificate to the proxy"
    assert {line["etiquettes"]["run"] for line in lines} == {tags.run_id}


def test_recette_proxy_takes_the_titulaire_its_certificate_and_the_proxy_table_from_the_config(
    new_environment: StartEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = new_environment()
    config = tmp_path / "recette.toml"
    write_config(env, free_port(), config)
    table = '[proxy]\necoute_titulaire = "127.0.0.2:7000"\ncorps_max = 10\nrefuser_hors_limite = true\n'
    config.write_text(config.read_text(encoding="utf-8") + table, encoding="utf-8")
    monkeypatch.setenv("RECETTE_CLIENT_SECRET", "s")
    given = dict.fromkeys(("titulaire_url", "asp_cert", "asp_key", "port_titulaire", "port_callback", "body_bytes"))
    given["refuse"] = False
    options = configured({**given, "config_file": config, "port_callback": 9000})
    assert (options["titulaire_url"], options["asp_cert"]) == (env.titulaire_url, env.certs.asp_client.cert)
    assert options["ecoute_titulaire"] == (7000, "127.0.0.2")
    assert options["ecoute_retour"] == (9000, "127.0.0.1"), "the command line wins over the table"
    assert (options["body_bytes"], options["refuse"]) == (10, True)
    with pytest.raises(ValueError, match=r"^option manquante : --titulaire"):
        configured({**given, "config_file": None})
