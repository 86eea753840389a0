"""Evidence the platform cannot touch, against a real `recette serve` subprocess (issue 14's done-when).

Each test starts `recette serve` as a user does (`--state-file`, `--dir`), reads its state file, and talks to
it over mutual TLS with the identities the state file and its folder give: the ASP's client, the
titulaire's client of the callback, the recette team's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from harness.campaign.environment import CALLBACK_CLIENT_ID
from harness.foundations.asp_client import AspClient, CallbackInspector
from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.foundations.majors import current_major
from harness.foundations.tls import CertificatePair, client_context
from harness.foundations.tokens import ClientCredentials, ClientCredentialsAuth
from mocks.asp.app import HEAD_BYTES_KEPT, MAX_RETURN_BYTES
from tests.builders import valid_retour
from tests.conftest import metadonnees, pdf
from tests.helpers import TESTS_DAY, assert_problem
from tests.test_cli import read_until

RETOURS = "/v1/retours"
JSON = {"Content-Type": "application/json"}
DEEP = 800


@dataclass
class Served:
    """A running `recette serve`: its process, its state file read back, and clients of its identities."""

    process: subprocess.Popen[str]
    state: dict[str, Any]
    traced: bool = False

    def pair(self, stem: str) -> CertificatePair:
        """A certificate pair of the run, from the folder of the state file's CA (`titulaire-client`…)."""
        folder = Path(self.state["tls"]["ca"]).parent
        return CertificatePair(folder / f"{stem}.crt.pem", folder / f"{stem}.key.pem")

    def callback(self, stem: str, token: bool = False) -> httpx.Client:
        """A client of the mock callback presenting `stem`'s certificate, with the titulaire's token if asked."""
        verify = client_context(Path(self.state["tls"]["ca"]), self.pair(stem))
        auth = None
        if token:
            credentials = ClientCredentials(self.state["oauth"]["token_url"], CALLBACK_CLIENT_ID)
            auth = ClientCredentialsAuth(credentials, verify)
        return httpx.Client(base_url=self.state["asp_callback"]["url"], verify=verify, auth=auth, timeout=60)

    def inspector(self) -> CallbackInspector:
        verify = client_context(Path(self.state["tls"]["ca"]), self.pair("recette-inspection"))
        return CallbackInspector(self.state["asp_callback"]["url"], verify)

    def asp(self) -> AspClient:
        """The ASP's client of the reference titulaire (its first OAuth client of the state file)."""
        verify = client_context(Path(self.state["tls"]["ca"]), self.pair("asp-client"))
        client = self.state["oauth"]["clients"][0]
        token_url, scopes = self.state["oauth"]["token_url"], tuple(client["scopes"])
        credentials = ClientCredentials(token_url, client["client_id"], client["client_secret"], scopes)
        auth = ClientCredentialsAuth(credentials, verify)
        return AspClient(self.state["titulaire"]["url"], verify, auth, major=current_major(TESTS_DAY))

    def serving_pid(self) -> int:
        """The pid of `recette serve` itself: the process, or under a tracer its only child."""
        if not self.traced:
            return self.process.pid
        (child,) = psutil.Process(self.process.pid).children()
        return child.pid


@contextlib.contextmanager
def serving(state_file: Path, run_dir: Path | None, tracer: tuple[str, ...] = ()) -> Iterator[Served]:
    """`recette serve` started (under `tracer`, if any) until the block ends; killed if still running then."""
    command = [*tracer, sys.executable, "-m", "harness.cli", "serve", "--state-file", str(state_file)]
    command += ["--date", TESTS_DAY.isoformat(), *(["--dir", str(run_dir)] if run_dir else [])]
    environ = os.environ | {"COLUMNS": "400", "TMPDIR": str(state_file.parent)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ)
    try:
        read_until(process, "Ctrl-C")
        yield Served(process, json.loads(state_file.read_text(encoding="utf-8")), traced=bool(tracer))
    finally:
        if process.poll() is None:  # a failed test: `recette serve` (and, under a tracer, its child) killed
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
            process.wait(30)


def stop(served: Served) -> int:
    """SIGTERM to `recette serve`, as a service manager stops it; its exit code."""
    os.kill(served.serving_pid(), signal.SIGTERM)
    return served.process.wait(30)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One `recette serve --dir` shared by the tests that do not stop it."""
    folder = tmp_path_factory.mktemp("serve")
    with serving(folder / "etat.json", folder / "env") as running:
        yield running
        assert stop(running) == 0


def deposit_and_wait(served: Served) -> dict[str, Any]:
    """One valid deposit on the reference, and its return as the ASP received it."""
    with served.asp() as asp, served.inspector() as inspector:
        receipt = asp.deposit(metadonnees(), [pdf()])
        assert receipt.status_code == 202, receipt.text
        (call,) = inspector.wait_for_return(receipt.json()["idDepot"], timeout=30)
    return call


def nested(depth: int) -> Any:
    value: Any = "fond"
    for _ in range(depth):
        value = {"niveau": value}
    return value


def test_the_titulaire_certificate_gets_403_problem_on_every_inspection_route(served: Served) -> None:
    deposit_and_wait(served)
    with served.callback("titulaire-client") as titulaire, served.callback("asp-client") as asp_side:
        for client in (titulaire, asp_side):
            assert_problem(client.get("/_inspection/retours"), 403, "acces-reserve-recette")
            assert_problem(client.delete("/_inspection/retours"), 403, "acces-reserve-recette")
            arming = client.post("/_inspection/pannes", json={"type": "erreur-500"})
            assert_problem(arming, 403, "acces-reserve-recette")
            assert_problem(client.get("/_inspection/empreinte"), 403, "acces-reserve-recette")
    with served.inspector() as inspector:
        assert inspector.received(), "the refused DELETE erased nothing"
        assert inspector.http.get("/_inspection/pannes").json() == [], "the refused POST armed nothing"


def test_after_hostile_deposits_and_calls_the_record_stays_readable_and_complete(served: Served) -> None:
    with served.inspector() as inspector:
        before = len(inspector.received(everything=True))
    with served.asp() as asp:
        deep_deposit = asp.deposit(metadonnees(donneesMetier=nested(DEEP)), [pdf()])
    assert_problem(deep_deposit, 422, "metadonnees-invalides")  # refused at the titulaire's door: no return
    deep = b'{"idDepot": ' + json.dumps(nested(DEEP)).encode() + b"}"
    surrogate = b'{"idDepot": "\\ud800", "idRetour": "\\ud800"}'
    with served.callback("titulaire-client", token=True) as titulaire, served.callback("titulaire-client") as anonymous:
        assert_problem(titulaire.post(RETOURS, content=deep, headers=JSON), 400, "requete-invalide")
        assert_problem(titulaire.post(RETOURS, content=surrogate, headers=JSON), 400, "requete-invalide")
        assert_problem(titulaire.post(RETOURS, content=b"\xff\xfe{", headers=JSON), 400, "requete-invalide")
        assert anonymous.post(RETOURS, content=surrogate, headers=JSON).status_code == 401
        assert anonymous.post(RETOURS, content=deep, headers=JSON).status_code == 401
    valid = deposit_and_wait(served)
    with served.inspector() as inspector:
        calls = inspector.received(everything=True)
        digest = inspector.evidence_digest()
    hostile = [call for call in calls[before:] if call["illisible"]]
    assert [call["statutHttp"] for call in hostile] == [400, 400, 400, 401, 401]
    assert all(call["corpsBrut"] for call in hostile), "each unreadable body is kept as received"
    assert valid in calls, "the valid return after them is recorded too"
    assert digest["lignes"] == len(calls)
    assert digest["lignesIllisibles"] == 0


def test_a_return_over_the_limit_gets_413_and_is_journaled_truncated_with_its_digest(served: Served) -> None:
    body = b'{"idDepot": "' + b"x" * (TRANSACTION_LIMIT_BYTES + 4 * 1024 * 1024) + b'"}'
    chunked = iter([body[start : start + 1024 * 1024] for start in range(0, len(body), 1024 * 1024)])
    with served.callback("titulaire-client", token=True) as titulaire:
        announced = titulaire.post(RETOURS, content=body, headers=JSON)
        streamed = titulaire.post(RETOURS, content=chunked, headers=JSON)
    for response in (announced, streamed):
        assert_problem(response, 413, "transaction-trop-volumineuse")
    with served.inspector() as inspector:
        announced_call, streamed_call = inspector.received(everything=True)[-2:]
    assert announced_call["troncature"] == {
        "octetsLus": 0,
        "sha256Lus": hashlib.sha256(b"").hexdigest(),
        "octetsAnnonces": len(body),
    }
    truncation = streamed_call["troncature"]
    assert MAX_RETURN_BYTES < truncation["octetsLus"] < len(body)
    assert truncation["sha256Lus"] == hashlib.sha256(body[: truncation["octetsLus"]]).hexdigest()
    assert truncation["octetsAnnonces"] is None
    assert streamed_call["tailleOctets"] == HEAD_BYTES_KEPT
    journal = Path(served.state["asp_callback"]["journal"])
    line = journal.read_bytes().splitlines()[-1]
    assert len(line) < 3 * HEAD_BYTES_KEPT, "the journal line holds the head (base64 and text), never the body"


def test_an_unauthenticated_call_is_journaled_as_its_head_with_the_digest_of_what_was_read(served: Served) -> None:
    body = b'{"idDepot": "' + b"y" * (1024 * 1024) + b'"}'
    with served.callback("titulaire-client") as anonymous:
        assert anonymous.post(RETOURS, content=body, headers=JSON).status_code == 401
    with served.inspector() as inspector:
        call = inspector.received(everything=True)[-1]
    truncation = call["troncature"]
    assert call["tailleOctets"] == HEAD_BYTES_KEPT
    assert HEAD_BYTES_KEPT < truncation["octetsLus"] <= len(body)
    assert truncation["sha256Lus"] == hashlib.sha256(body[: truncation["octetsLus"]]).hexdigest()
    assert truncation["octetsAnnonces"] == len(body)


def test_after_kill_9_a_restart_on_the_same_dir_still_holds_every_return(tmp_path: Path) -> None:
    state_file, run_dir = tmp_path / "etat.json", tmp_path / "env"
    with serving(state_file, run_dir) as first:
        returns = [deposit_and_wait(first), deposit_and_wait(first)]
        with first.callback("titulaire-client", token=True) as titulaire:
            titulaire.post(RETOURS, content=b'{"idDepot": "\\ud800"}', headers=JSON)
        with first.inspector() as inspector:
            recorded, digest = inspector.received(everything=True), inspector.evidence_digest()
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(30)
    with serving(state_file, run_dir) as again:
        with again.inspector() as inspector:
            assert inspector.received(everything=True) == recorded
            assert inspector.evidence_digest() == digest
        assert all(call in recorded for call in returns)
        other = valid_retour(idDepot=returns[0]["idDepot"])
        with again.callback("titulaire-client", token=True) as titulaire:
            refused = assert_problem(titulaire.post(RETOURS, json=other), 409, "retour-deja-recu")
        assert refused["idRetourRecu"] == returns[0]["idRetour"], "the one-return rule survived the crash"
        assert stop(again) == 0


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace n'est pas installé")
def test_the_state_file_is_created_0600(tmp_path: Path) -> None:
    """The state file holds client secrets: created 0600 (never 0644, then changed), as the system call shows."""
    trace = tmp_path / "appels.txt"
    state_file = tmp_path / "etat.json"
    tracer = ("strace", "-f", "-qq", "-e", "trace=openat,creat,chmod,fchmod", "-o", str(trace))
    with serving(state_file, tmp_path / "env", tracer) as running:
        assert oct(state_file.stat().st_mode & 0o777) == "0o600"
        assert stop(running) == 0
    creations = [line for line in trace.read_text().splitlines() if f'"{state_file}"' in line and "O_CREAT" in line]
    assert creations, "the state file's creation was traced"
    assert all(line.split(") = ")[0].endswith(", 0600") for line in creations), creations


def test_a_clean_stop_without_dir_removes_its_temporary_folder_and_the_ca_key(tmp_path: Path) -> None:
    with serving(tmp_path / "etat.json", None) as running:
        ca_key = Path(running.state["tls"]["ca"]).with_name("ca.key.pem")
        folder = Path(running.state["asp_callback"]["journal"]).parent.parent
        assert ca_key.is_file()
        assert folder.parent == tmp_path
        assert stop(running) == 0
    assert not folder.exists()
