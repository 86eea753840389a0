"""The pre-flight of a real platform: each step passes on a reachable reference, and each fails alone, in one
line naming the setting to correct (`harness/campaign/preflight.py`).

The platform is a reference titulaire started by the test and known to the pre-flight only through a
`RunConfig`, as `recette run --config` knows it; our receiver is really started.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import trustme

from harness.campaign.asp_side import RETURNS_SCOPE, AspSide
from harness.campaign.config import RunConfig
from harness.campaign.environment import Environment
from harness.campaign.preflight import PreflightError, PreflightFindings, preflight
from harness.campaign.receiver import ReturnReceiver
from harness.campaign.target import ExternalTarget
from harness.foundations.billing import BillingTags
from harness.foundations.majors import Major
from harness.foundations.tls import write_pair
from harness.reference.versions import RELEASES
from mocks.oidc import RegisteredClient
from tests.conftest import StartEnvironment, start_environment
from tests.helpers import TESTS_DAY, free_port, identity_provider

OVERLAP = date(2027, 3, 1)
"""Both majors served and required by the calendar."""

Preflight = Callable[..., PreflightFindings]


def config_of(env: Environment, **changes: Any) -> RunConfig:
    """`env`'s reference as a real platform; our receiver on this machine, at a free port."""
    certs = env.certs
    settings: dict[str, Any] = {
        "target": env.titulaire_url,
        "ca": certs.ca,
        "client_cert": certs.asp_client.cert,
        "client_key": certs.asp_client.key,
        "token_url": env.token_url,
        "client_id": "asp-recette",
        "client_secret": env.credentials().client_secret,
        "callback_url": f"https://127.0.0.1:{free_port()}",
        "callback_cert": certs.server.cert,
        "callback_key": certs.server.key,
    }
    return RunConfig(**(settings | changes))


@contextmanager
def external(config: RunConfig, directory: Path, major: Major, day: date) -> Iterator[ExternalTarget]:
    with ReturnReceiver(config, directory) as receiver:
        yield ExternalTarget(BillingTags.create(), config, receiver, major=major, day=day)


@pytest.fixture
def run_preflight(tmp_path: Path) -> Preflight:
    """The pre-flight of `env` with `changes` to its configuration, on `majors` at `day`."""

    receivers = itertools.count()

    def run(env: Environment, majors: tuple[str, ...] = ("v1",), day: date = TESTS_DAY, **changes: Any) -> Any:
        config, chosen = config_of(env, **changes), [Major(m) for m in majors]
        with external(config, tmp_path / f"recepteur-{next(receivers)}", chosen[0], day) as target:
            return preflight(target, chosen)

    return run


def refusal(run: Preflight, env: Environment, **changes: Any) -> str:
    with pytest.raises(PreflightError) as caught:
        run(env, **changes)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_reachable_platform_passes_and_gives_its_contract_version(env: Environment, run_preflight: Preflight) -> None:
    findings = run_preflight(env)
    assert findings.contract_versions == {"v1": RELEASES["/v1"]}
    assert len(findings.checks) == 4
    assert findings.checks[-1].startswith("Récepteur de retours joignable")


def test_the_token_endpoint_may_come_from_discovery(env: Environment, run_preflight: Preflight) -> None:
    discovery = env.token_url.rsplit("/", 1)[0] + "/.well-known/openid-configuration"
    findings = run_preflight(env, token_url=None, discovery_url=discovery)
    assert any(check.startswith(f"Jeton obtenu auprès de {env.token_url}") for check in findings.checks)


def test_a_closed_port_names_the_target_url(env: Environment, run_preflight: Preflight) -> None:
    port = free_port()
    message = refusal(run_preflight, env, target=f"https://127.0.0.1:{port}")
    assert message == f"target.url (RECETTE_TARGET) : connexion refusée par 127.0.0.1:{port}"


def test_a_server_certificate_of_another_ca_names_target_ca(
    env: Environment, run_preflight: Preflight, tmp_path: Path
) -> None:
    other = tmp_path / "autre-ac.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    assert refusal(run_preflight, env, ca=other).startswith("target.ca (RECETTE_CA) : certificat du serveur")


def test_a_client_certificate_the_platform_refuses_names_client_cert(
    env: Environment, run_preflight: Preflight, tmp_path: Path
) -> None:
    stranger = write_pair(trustme.CA().issue_cert("inconnu"), tmp_path / "inconnu")
    message = refusal(run_preflight, env, client_cert=stranger.cert, client_key=stranger.key)
    assert message.startswith("client.cert (RECETTE_CLIENT_CERT) : ")


def test_an_unreachable_issuer_names_the_token_url(env: Environment, run_preflight: Preflight) -> None:
    port = free_port()
    message = refusal(run_preflight, env, token_url=f"https://127.0.0.1:{port}/token")
    assert message == f"oauth.token_url (RECETTE_TOKEN_URL) : connexion refusée par 127.0.0.1:{port}"


def test_a_refused_client_names_the_client_and_the_issuers_code(env: Environment, run_preflight: Preflight) -> None:
    message = refusal(run_preflight, env, client_secret="pas-le-bon")
    assert message.startswith("oauth.client_id (RECETTE_CLIENT_ID) : ")
    assert "invalid_client" in message
    assert "pas-le-bon" not in message


def test_a_health_answer_outside_its_contract_names_the_target(run_preflight: Preflight, tmp_path: Path) -> None:
    with start_environment(tmp_path / "env", faults=("reponse-hors-contrat",)) as env:  # off contract by design
        message = refusal(run_preflight, env)
    assert message.startswith("target.url (RECETTE_TARGET) : la réponse de GET /v1/sante sort du contrat")
    assert "version" in message


def test_each_major_required_is_checked_and_one_not_served_names_the_target(
    env: Environment, run_preflight: Preflight, tmp_path: Path
) -> None:
    both = run_preflight(env, majors=("v1", "v2"), day=OVERLAP)
    assert both.contract_versions == {"v1": RELEASES["/v1"], "v2": RELEASES["/v2"]}
    with start_environment(tmp_path / "env", majors=("/v1",)) as v1_only:  # its 404 is outside the v2 contract
        message = refusal(run_preflight, v1_only, majors=("v1", "v2"), day=OVERLAP)
    assert message.startswith("target.url (RECETTE_TARGET) : GET /v2/sante répond 404")


def test_a_major_the_calendar_does_not_require_yet_is_not_asked_for(
    new_environment: StartEnvironment, run_preflight: Preflight
) -> None:
    v1_only = new_environment(majors=("/v1",))
    findings = run_preflight(v1_only, majors=("v1", "v2"), day=TESTS_DAY)
    assert findings.contract_versions == {"v1": RELEASES["/v1"]}


def test_a_receiver_the_callback_url_does_not_reach_names_callback_url(
    env: Environment, run_preflight: Preflight
) -> None:
    port = free_port()  # 127.0.0.2 is not a name of this machine for the receiver: it listens elsewhere
    message = refusal(run_preflight, env, callback_url=f"https://127.0.0.2:{port}")
    assert message == f"callback.url (RECETTE_CALLBACK_URL) : connexion refusée par 127.0.0.2:{port}"


def test_a_callback_url_that_does_not_resolve_here_is_not_checkable_and_says_so(
    env: Environment, run_preflight: Preflight
) -> None:
    findings = run_preflight(env, callback_url="https://recepteur.invalid")
    assert (
        findings.checks[-1] == "Récepteur non vérifiable d'ici : recepteur.invalid ne se résout pas sur cette machine"
    )


# -- the ASP's identity provider (`callback.issuer`) ------------------------------------------------------


def with_asp_provider(directory: Path, issuer: str, **changes: Any) -> dict[str, Any]:
    """The configuration changes of an ASP side prepared in `directory` whose returns carry `issuer`'s tokens."""
    url = f"https://127.0.0.1:{free_port()}"
    side = AspSide.provision(directory, url, "127.0.0.1")
    return {
        "callback_url": url,
        "callback_dir": side.directory,
        "smtp_listen": f"127.0.0.1:{free_port()}",
        "callback_issuer": issuer,
    } | changes


def test_the_asp_identity_provider_publishes_its_keys_before_any_suite(
    env: Environment, run_preflight: Preflight, tmp_path: Path
) -> None:
    client = RegisteredClient("titulaire", "s", (RETURNS_SCOPE,), "https://retours.asp.example")
    with identity_provider(env.certs, client) as provider:
        changes = with_asp_provider(tmp_path / "cote-asp", provider.url, callback_issuer_ca=env.certs.ca)
        findings = run_preflight(env, **changes)
        untrusted = refusal(run_preflight, env, **(changes | {"callback_issuer_ca": None}))
    closed = free_port()
    unreachable = refusal(run_preflight, env, **(changes | {"callback_issuer": f"https://127.0.0.1:{closed}"}))

    assert findings.checks[-1] == (
        f"Fournisseur d'identité de l'ASP joignable à {provider.url} : 2 clé(s) de signature publiée(s)"
    )
    assert untrusted.startswith("callback.issuer_ca (RECETTE_CALLBACK_ISSUER_CA) : certificat du serveur")
    assert unreachable == f"callback.issuer (RECETTE_CALLBACK_ISSUER) : connexion refusée par 127.0.0.1:{closed}"
