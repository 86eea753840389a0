"""The run configuration for real targets: TOML, then environment, then CLI; refused early, secrets hidden."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness.campaign.config import SETTINGS, ConfigError, RunConfig, calendar_of, load_config
from harness.foundations.calendar import Version
from harness.foundations.tls import RunCertificates

SECRET = "s3cret-de-recette-ne-pas-afficher"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> RunCertificates:
    return RunCertificates.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def folder(tmp_path: Path, certs: RunCertificates) -> Path:
    """A folder with `certs/` holding a CA, a client certificate and its key, as a recette team has them."""
    (tmp_path / "certs").mkdir()
    shutil.copy(certs.ca, tmp_path / "certs" / "ca.pem")
    shutil.copy(certs.asp_client.cert, tmp_path / "certs" / "client.crt.pem")
    shutil.copy(certs.asp_client.key, tmp_path / "certs" / "client.key.pem")
    return tmp_path


TOML = """
[target]
url = "https://titulaire.example/"
ca = "certs/ca.pem"

[client]
cert = "certs/client.crt.pem"
key = "certs/client.key.pem"

[oauth]
token_url = "https://idp.example/token"
client_id = "asp-recette"
scopes = ["depots:ecrire", "depots:lire"]

[callback]
url = "https://retours.asp.example"
"""


def write(folder: Path, text: str = TOML) -> Path:
    path = folder / "recette.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(folder: Path, text: str = TOML, env: dict[str, str] | None = None, **overrides: Any) -> RunConfig:
    environ = {"RECETTE_CLIENT_SECRET": SECRET} | (env or {})
    return load_config(write(folder, text), environ, overrides)


def refusal(folder: Path, text: str = TOML, env: dict[str, str] | None = None, **overrides: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        load(folder, text, env, **overrides)
    message = str(raised.value)
    assert "\n" not in message
    assert SECRET not in message
    return message


# -- a complete configuration ----------------------------------------------------------------------------


def test_a_toml_file_gives_a_checked_configuration_with_paths_from_its_folder(folder: Path) -> None:
    config = load(folder)

    assert config.target == "https://titulaire.example"
    assert config.ca == folder / "certs" / "ca.pem"
    assert config.client_cert == folder / "certs" / "client.crt.pem"
    assert config.token_url == "https://idp.example/token"
    assert config.discovery_url is None
    assert (config.client_id, config.client_secret) == ("asp-recette", SECRET)
    assert config.auth_method == "client_secret_basic"
    assert config.scopes == ("depots:ecrire", "depots:lire")
    assert config.callback_url == "https://retours.asp.example"
    assert config.ssl_context().minimum_version.name == "TLSv1_2"


def test_the_environment_alone_is_enough(folder: Path) -> None:
    env = {
        "RECETTE_TARGET": "https://titulaire.example",
        "RECETTE_CA": str(folder / "certs" / "ca.pem"),
        "RECETTE_CLIENT_CERT": str(folder / "certs" / "client.crt.pem"),
        "RECETTE_CLIENT_KEY": str(folder / "certs" / "client.key.pem"),
        "RECETTE_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration",
        "RECETTE_CLIENT_ID": "asp-recette",
        "RECETTE_CLIENT_SECRET": SECRET,
        "RECETTE_SCOPES": "depots:lire, depots:ecrire",
        "RECETTE_CALLBACK_URL": "https://retours.asp.example",
    }

    config = load_config(None, env)

    assert config.discovery_url == "https://idp.example/.well-known/openid-configuration"
    assert config.scopes == ("depots:lire", "depots:ecrire")


def test_recette_config_names_the_file(folder: Path) -> None:
    path = write(folder)

    config = load_config(None, {"RECETTE_CONFIG": str(path), "RECETTE_CLIENT_SECRET": SECRET})

    assert config.client_id == "asp-recette"


# -- precedence ------------------------------------------------------------------------------------------


def test_the_environment_overrides_the_file_and_the_command_line_overrides_both(folder: Path) -> None:
    env = {"RECETTE_TARGET": "https://depuis-env.example", "RECETTE_CLIENT_ID": "client-env"}

    from_env = load(folder, env=env)
    from_cli = load(folder, env=env, target="https://depuis-cli.example", client_id=None)

    assert (from_env.target, from_env.client_id) == ("https://depuis-env.example", "client-env")
    assert (from_cli.target, from_cli.client_id) == ("https://depuis-cli.example", "client-env")


def test_an_empty_variable_does_not_erase_the_file(folder: Path) -> None:
    assert load(folder, env={"RECETTE_TARGET": ""}).target == "https://titulaire.example"


# -- refused before any traffic ---------------------------------------------------------------------------


LINES = {
    "target": 'url = "https://titulaire.example/"',
    "ca": 'ca = "certs/ca.pem"',
    "client_cert": 'cert = "certs/client.crt.pem"',
    "client_key": 'key = "certs/client.key.pem"',
    "client_id": 'client_id = "asp-recette"',
    "callback_url": 'url = "https://retours.asp.example"',
}


@pytest.mark.parametrize("field", LINES)
def test_each_missing_setting_is_named(folder: Path, field: str) -> None:
    [setting] = [s for s in SETTINGS if s.field == field]

    assert refusal(folder, TOML.replace(LINES[field], "")) == f"réglage manquant : {setting.label}"


def test_a_token_endpoint_is_required(folder: Path) -> None:
    message = refusal(folder, TOML.replace('token_url = "https://idp.example/token"', ""))

    assert message == (
        "réglage manquant : oauth.token_url (RECETTE_TOKEN_URL) ou oauth.discovery_url (RECETTE_DISCOVERY_URL)"
    )


def test_a_token_url_and_a_discovery_url_are_contradictory(folder: Path) -> None:
    message = refusal(folder, env={"RECETTE_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration"})

    assert message.startswith("réglages contradictoires : oauth.token_url (RECETTE_TOKEN_URL) et oauth.discovery_url")


def test_client_secret_basic_needs_a_secret(folder: Path) -> None:
    with pytest.raises(ConfigError, match=r"^réglage manquant : oauth.client_secret \(RECETTE_CLIENT_SECRET\)"):
        load_config(write(folder), {}, {})


def test_tls_client_auth_with_a_secret_is_contradictory_and_without_is_accepted(folder: Path) -> None:
    message = refusal(folder, env={"RECETTE_AUTH_METHOD": "tls_client_auth"})
    config = load_config(write(folder), {"RECETTE_AUTH_METHOD": "tls_client_auth"}, {})

    assert message.startswith("réglages contradictoires : oauth.client_secret (RECETTE_CLIENT_SECRET) avec")
    assert (config.auth_method, config.client_secret) == ("tls_client_auth", "")


def test_an_unknown_auth_method_is_refused(folder: Path) -> None:
    assert refusal(folder, auth_method="private_key_jwt").startswith("oauth.auth_method (RECETTE_AUTH_METHOD) : ")


@pytest.mark.parametrize(
    ("override", "label"),
    [
        ({"target": "http://titulaire.example"}, "target.url (RECETTE_TARGET)"),
        ({"callback_url": "retours.asp.example"}, "callback.url (RECETTE_CALLBACK_URL)"),
        ({"token_url": "http://idp.example/token"}, "oauth.token_url (RECETTE_TOKEN_URL)"),
    ],
)
def test_urls_must_be_https(folder: Path, override: dict[str, str], label: str) -> None:
    assert refusal(folder, **override).startswith(f"{label} : une URL https:// est attendue")


def test_the_asp_identity_provider_comes_with_the_asp_side_and_its_companions_with_it(folder: Path) -> None:
    issuer = "https://idp.asp.example/realms/recette"
    side = {"callback_dir": str(folder / "cote-asp")}

    config = load(folder, callback_issuer=issuer, callback_audience="api-retours", **side)

    assert (config.callback_issuer, config.callback_audience) == (issuer, "api-retours")
    assert refusal(folder, callback_issuer=issuer) == (
        "réglage manquant : callback.dir (RECETTE_CALLBACK_DIR) (avec callback.issuer (RECETTE_CALLBACK_ISSUER))"
    )
    assert refusal(folder, callback_audience="api-retours", **side) == (
        "réglage manquant : callback.issuer (RECETTE_CALLBACK_ISSUER) "
        "(avec callback.audience (RECETTE_CALLBACK_AUDIENCE))"
    )
    assert refusal(folder, callback_issuer="http://idp.asp.example", **side).startswith(
        "callback.issuer (RECETTE_CALLBACK_ISSUER) : une URL https:// est attendue"
    )


def test_credentials_in_a_url_are_refused_without_being_echoed(folder: Path) -> None:
    message = refusal(folder, target=f"https://asp:{SECRET}@titulaire.example")

    assert message == "target.url (RECETTE_TARGET) : pas d'identifiants dans l'URL"


def test_a_missing_file_is_named(folder: Path) -> None:
    (folder / "certs" / "ca.pem").unlink()

    assert refusal(folder).startswith("target.ca (RECETTE_CA) : fichier illisible : ")


def test_a_key_that_is_not_the_certificate_s_is_contradictory(folder: Path, certs: RunCertificates) -> None:
    shutil.copy(certs.titulaire_client.key, folder / "certs" / "client.key.pem")

    assert refusal(folder).startswith(
        "réglages contradictoires : client.cert (RECETTE_CLIENT_CERT) et client.key (RECETTE_CLIENT_KEY)"
    )


def test_a_ca_file_without_certificate_is_refused(folder: Path) -> None:
    (folder / "certs" / "ca.pem").write_text("pas un certificat\n")

    assert refusal(folder).startswith("target.ca (RECETTE_CA) : aucun certificat d'AC lisible")


def test_empty_scopes_are_refused(folder: Path) -> None:
    text = TOML.replace('scopes = ["depots:ecrire", "depots:lire"]', "scopes = []")

    assert refusal(folder, text) == "oauth.scopes (RECETTE_SCOPES) : au moins une portée est attendue"


def test_the_platform_s_own_contract_is_taken_from_the_file_s_folder(folder: Path) -> None:
    shutil.copy(REPO / "tests" / "fuzz_corpus" / "titulaire-swagger2.yaml", folder / "contrat.yaml")

    assert load(folder, TOML.replace("[client]", 'contract = "contrat.yaml"\n\n[client]')).contract == (
        folder / "contrat.yaml"
    )
    assert load(folder).contract is None


def test_an_openapi_3_1_contract_is_refused_before_any_traffic(folder: Path) -> None:
    contract = folder / "contrat.yaml"
    contract.write_text((REPO / "tests" / "lint_corpus" / "openapi-31.yaml").read_text(encoding="utf-8"))

    message = refusal(folder, env={"RECETTE_CONTRACT": str(contract)})

    assert message.startswith("target.contract (RECETTE_CONTRACT) : contrat inutilisable : /openapi : OpenAPI 3.1")


def test_a_missing_contract_is_named(folder: Path) -> None:
    message = refusal(folder, env={"RECETTE_CONTRACT": str(folder / "absent.yaml")})

    assert message.startswith("target.contract (RECETTE_CONTRACT) : fichier illisible : ")


# -- unreadable or wrong TOML -----------------------------------------------------------------------------


def test_unreadable_toml_is_refused_with_its_position(folder: Path) -> None:
    message = refusal(folder, "[target\nurl = ")

    assert message.startswith(f"fichier de configuration illisible : {folder / 'recette.toml'} : ")
    assert "line 1" in message


def test_a_missing_toml_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^fichier de configuration illisible : .*absent\.toml"):
        load_config(tmp_path / "absent.toml", {}, {})


def test_an_unknown_key_is_refused(folder: Path) -> None:
    message = refusal(folder, TOML.replace("client_id =", "clientid ="))

    assert message.startswith(f"clé inconnue dans {folder / 'recette.toml'} : oauth.clientid ")


def test_a_value_of_the_wrong_type_is_refused(folder: Path) -> None:
    message = refusal(folder, TOML.replace('client_id = "asp-recette"', "client_id = 42"))

    assert message == "oauth.client_id (RECETTE_CLIENT_ID) : une chaîne de caractères est attendue"


def test_an_unknown_command_line_setting_is_refused(folder: Path) -> None:
    assert refusal(folder, cible="https://x.example") == "réglage inconnu en ligne de commande : cible"


# -- secrets ----------------------------------------------------------------------------------------------


def test_the_secret_never_appears_in_repr_str_or_summary(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    text = TOML.replace('client_id = "asp-recette"', f'client_id = "asp-recette"\nclient_secret = "{SECRET}"')

    config = load_config(write(folder, text), {}, {})
    summary = config.summary()

    assert config.client_secret == SECRET
    assert SECRET not in repr(config)
    assert SECRET not in str(config)
    assert SECRET not in str(summary)
    assert summary["oauth.client_secret"] == "***"
    assert summary["target.url"] == "https://titulaire.example"
    assert SECRET not in caplog.text


def test_a_secret_in_a_refused_configuration_is_not_echoed(folder: Path) -> None:
    text = TOML.replace('client_id = "asp-recette"', f'client_id = "asp-recette"\nclient_secret = "{SECRET}"')

    refusal(folder, text, env={"RECETTE_AUTH_METHOD": "tls_client_auth"})  # asserts the secret is absent


# -- the documented example -------------------------------------------------------------------------------


def test_the_documented_example_names_every_setting_and_parses(tmp_path: Path) -> None:
    example = (REPO / "recette.example.toml").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert setting.variable in example, setting.variable
        assert setting.key.split(".")[1] in example, setting.key
    shutil.copy(REPO / "recette.example.toml", tmp_path / "recette.toml")

    with pytest.raises(ConfigError) as raised:  # its certificates are placeholders
        load_config(tmp_path / "recette.toml", {"RECETTE_CLIENT_SECRET": SECRET}, {})

    assert str(raised.value).startswith("target.ca (RECETTE_CA) : fichier illisible : ")


def test_a_configuration_built_directly_reads_nothing_from_the_environment(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = load(folder).model_dump()
    del values["client_id"]
    monkeypatch.setenv("RECETTE_CLIENT_ID", "depuis-env")

    with pytest.raises(ValidationError) as raised:
        RunConfig(**values)

    assert [error["loc"] for error in raised.value.errors()] == [("client_id",)]


def test_the_platform_s_calendar_and_major_are_taken_from_the_file(folder: Path) -> None:
    calendar = folder / "versions.yaml"
    calendar.write_text('versions:\n  - numero: "3.0.0"\n    publieeLe: 2026-06-01\n', encoding="utf-8")
    config = load(folder, TOML.replace("[client]", 'versions = "versions.yaml"\nversion = "v2"\n\n[client]'))
    assert (config.versions, config.version) == (calendar, "v2")
    assert [r.version.major for r in calendar_of(config).releases] == [3]
    assert calendar_of(None).find(Version.parse("2.0.0")) is not None


def test_an_unreadable_calendar_and_an_unknown_major_are_named(folder: Path) -> None:
    (folder / "versions.yaml").write_text("versions: pas une liste\n", encoding="utf-8")
    assert refusal(folder, env={"RECETTE_VERSIONS": str(folder / "versions.yaml")}).startswith(
        "target.versions (RECETTE_VERSIONS) : calendrier des versions inutilisable"
    )
    assert refusal(folder, env={"RECETTE_VERSION": "v9"}).startswith("target.version (RECETTE_VERSION) : ")
