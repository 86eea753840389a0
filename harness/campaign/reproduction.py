"""The reproduction script of a failure: `reproductions/NNN-<scénario>.sh`, its body in `NNN-corps.bin` beside it.

A script replays what shows its failure on a live platform, with the paths of the run's configuration, never
a temporary folder of the run, never a private key copied into the reports:
- a real platform: the URL and the `target.ca`, `client.cert`, `client.key` files of `recette.toml`, a token from
  its issuer (`oauth.*`; the secret from `RECETTE_CLIENT_SECRET`, never written in the script);
- the embedded reference, which lives only as long as its run: the state file of `recette serve --dir …`
  (`ETAT=…`) gives its address, certificates and client.
A failure of the returns (a rule of the return judge) is shown by the receiver's journal, not by a new deposit:
`GET /_inspection/retours?idDepot=…` for the run's deposit; on a fresh environment that never saw it, the script
makes the same deposit again and shows that deposit's returns, waiting as long as the service contract allows.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.campaign.config import RunConfig
from harness.conformance.returns import RULES, SINGLE, max_return_delay
from harness.foundations.curl import CurlTls, curl_command, inline_body, request_body

FOLDER = "reproductions"
SCRIPT_TLS = CurlTls('"$AC"', '"$CERT"', '"$CLE"')
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

READ_STATE = """\
: "${ETAT:?indiquer le fichier d'état de recette serve : ETAT=etat.json sh $0}"
etat() {  # la première des clés présente dans le fichier d'état (clé.sous-clé, indice d'une liste)
  python3 - "$ETAT" "$@" <<'FIN'
import json, sys
etat = json.load(open(sys.argv[1], encoding="utf-8"))
for cles in sys.argv[2:]:
    valeur = etat
    try:
        for cle in cles.split("."):
            valeur = valeur[int(cle)] if isinstance(valeur, list) else valeur[cle]
    except (KeyError, IndexError):
        continue
    print(valeur)
    break
FIN
}"""
JSON_FIELD = "python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])'"
JSON_COUNT = "python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'"


@dataclass(frozen=True)
class Failure:
    """What the script of one failure is about."""

    number: int
    scenario: str
    step: str | None
    observed: str
    request: httpx.Request | None
    """The request whose answer is at fault (None: none to replay)."""
    deposits: Sequence[str] = ()
    """The run's deposits whose returns are at fault (a failure of the returns)."""
    deposit_request: httpx.Request | None = None
    """The deposit to make again when the receiver never saw the run's (a fresh environment)."""


@dataclass(frozen=True)
class Reproduction:
    command: str
    """The script's main request (for the PV)."""
    script: str
    """Its path, relative to the run's folder."""


def rule_named(observed: str) -> str | None:
    """The rule of the return judge (`retour-unique`…) a failure's message names, if any."""
    return next((rule for rule in RULES if re.search(rf"(?<![\w-]){re.escape(rule)}(?![\w-])", observed)), None)


def of_returns(observed: str) -> bool:
    """A failure judged on the returns the ASP received (a rule of the return judge named in its message)."""
    return rule_named(observed) is not None


def deposits_named(observed: str, known: Sequence[str]) -> list[str]:
    """The deposits of `known` that a failure's message names, in its order (all of `known` if it names none)."""
    named = [uid for uid in dict.fromkeys(_UUID.findall(observed)) if uid in known]
    return named or list(known)


def write_script(failure: Failure, run_dir: Path, config: RunConfig | None, service_contract: Path) -> Reproduction:
    """Write the failure's script (and its body) into `run_dir/reproductions/`."""
    folder = run_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{failure.number:03d}-{slug(failure.scenario)}"
    body_name = f"{failure.number:03d}-corps.bin"
    replayed = failure.deposit_request if failure.deposits else failure.request
    body = request_body(replayed) if replayed is not None else b""
    body_option = inline_body(body) if body else None
    if body and body_option is None:
        (folder / body_name).write_bytes(body)
        body_option = f'--data-binary @"$ICI/{body_name}"'
    lines = [*_heading(failure, config), "set -eu", 'ICI=$(cd "$(dirname "$0")" && pwd)', ""]
    lines += _platform(config)
    if failure.deposits:
        command, block = _returns_block(failure, body_option, service_contract, config is not None)
    elif failure.request is not None:
        command = curl_command(failure.request, SCRIPT_TLS, _on_target(failure.request), body_option, "-i")
        block = ["# La requête dont la réponse est en défaut (statut et en-têtes affichés) :", command]
    else:
        command, block = "", ["echo 'Aucune requête à rejouer : voir les constats du procès-verbal.'"]
    lines += ["", *block]
    path = folder / f"{stem}.sh"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o755)
    return Reproduction(command, f"{FOLDER}/{path.name}")


def slug(title: str) -> str:
    """`un-depot-initial-est-recu` from « Un dépôt initial est reçu » (at most 50 characters)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:50].rstrip("-") or "echec"


def _heading(failure: Failure, config: RunConfig | None) -> list[str]:
    observed = " ".join(failure.observed.split())[:400]
    lines = [
        "#!/bin/sh",
        f"# Reproduction n° {failure.number:03d} : « {failure.scenario} »",
        f"# Étape en échec : {failure.step or 'hors étape'}",
        f"# Constaté pendant la recette : {observed}",
        "#",
    ]
    if config is None:
        lines += [
            "# Cible : la référence embarquée, qui n'existe que le temps de sa campagne. Démarrer un environnement :",
            "#   recette serve --dir DOSSIER --state-file etat.json",
            "# puis lancer ce script avec son fichier d'état : ETAT=etat.json sh " + "$0",
        ]
    else:
        lines += [
            f"# Cible : {config.target}, telle que la décrit recette.toml (target.*, client.*, oauth.*).",
            "# Jeton : TOKEN=… s'il est fourni, sinon demandé à l'émetteur de la plateforme",
            "# (client_secret_basic : le secret est lu dans RECETTE_CLIENT_SECRET, jamais écrit ici).",
        ]
    if failure.deposits:
        lines += [
            "# Les retours sont lus au journal du récepteur de retours de l'ASP (celui du harnais), décrit par",
            "# le fichier d'état de recette serve : ETAT=etat.json.",
        ]
    return lines


def _platform(config: RunConfig | None) -> list[str]:
    """Shell lines that set CIBLE, AC, CERT, CLE and TOKEN."""
    if config is None:
        return [
            READ_STATE,
            "CIBLE=$(etat titulaire.url)",
            "AC=$(etat tls.ca); CERT=$(etat tls.client_cert); CLE=$(etat tls.client_key)",
            "JETON_URL=$(etat oauth.token_url)",
            "IDENTIFIANT=$(etat oauth.clients.0.client_id); SECRET=$(etat oauth.clients.0.client_secret)",
            "jeton() {",
            '  curl -sS --cacert "$AC" --cert "$CERT" --key "$CLE" -u "$IDENTIFIANT:$SECRET" \\',
            f'    -d grant_type=client_credentials "$JETON_URL" | {JSON_FIELD} access_token',
            "}",
            "TOKEN=${TOKEN:-$(jeton)}",
        ]
    lines = [
        f"CIBLE={shlex.quote(config.target)}",
        f"AC={shlex.quote(str(config.ca.resolve()))}",
        f"CERT={shlex.quote(str(config.client_cert.resolve()))}",
        f"CLE={shlex.quote(str(config.client_key.resolve()))}",
    ]
    if config.token_url:
        lines.append(f"JETON_URL={shlex.quote(config.token_url)}")
    else:
        discovery = shlex.quote(config.discovery_url or "")
        lines.append(f'JETON_URL=$(curl -sS --cacert "$AC" {discovery} | {JSON_FIELD} token_endpoint)')
    if config.auth_method == "tls_client_auth":
        credential = f"-d client_id={shlex.quote(config.client_id)}"
    else:
        identifier = shlex.quote(config.client_id)
        credential = (
            f'-u {identifier}:"${{RECETTE_CLIENT_SECRET:?le secret du client est attendu dans RECETTE_CLIENT_SECRET}}"'
        )
    return [
        *lines,
        "jeton() {",
        f'  curl -sS --cacert "$AC" --cert "$CERT" --key "$CLE" {credential} \\',
        f"    -d grant_type=client_credentials --data-urlencode {shlex.quote('scope=' + ' '.join(config.scopes))} \\",
        f'    "$JETON_URL" | {JSON_FIELD} access_token',
        "}",
        "TOKEN=${TOKEN:-$(jeton)}",
    ]


def _on_target(request: httpx.Request) -> str:
    """The request's path and query, on the script's platform (`$CIBLE`)."""
    return f'"$CIBLE"{shlex.quote(request.url.raw_path.decode("ascii"))}'


def _returns_block(
    failure: Failure, body_option: str | None, service_contract: Path, read_state: bool
) -> tuple[str, list[str]]:
    """The receiver's journal for the run's deposits; on a fresh environment, the same deposit again and its
    returns, awaited as long as the service contract allows (`delaiMaxRetour`)."""
    expected = 2 if SINGLE in failure.observed else 1
    first = failure.deposits[0]
    command = f'curl -sS --cacert "$RAC" --cert "$RCERT" --key "$RCLE" "$RECEPTEUR/_inspection/retours?idDepot={first}"'
    lines = [
        "# Le récepteur de retours de l'ASP (le harnais), et l'identité de l'équipe de recette qui lit son journal :",
        *([READ_STATE] if read_state else []),
        "RECEPTEUR=$(etat asp_callback.url); RAC=$(etat tls.ca)",
        "RCERT=$(etat tls.recette_cert tls.client_cert); RCLE=$(etat tls.recette_key tls.client_key)",
        "retours() {",
        '  curl -sS --cacert "$RAC" --cert "$RCERT" --key "$RCLE" "$RECEPTEUR/_inspection/retours?idDepot=$1"',
        "}",
        f"compter() {{ {JSON_COUNT}; }}",
        "",
        "# Les retours reçus pour les dépôts de la campagne :",
        "CONNUS=0",
    ]
    for id_depot in failure.deposits:
        lines += [
            f'echo "Retours reçus pour le dépôt {id_depot} :"',
            f'RETOURS=$(retours {id_depot}); echo "$RETOURS"',
            'if [ "$(echo "$RETOURS" | compter)" -gt 0 ]; then CONNUS=1; fi',
        ]
    if failure.deposit_request is not None:
        deposit = curl_command(failure.deposit_request, SCRIPT_TLS, _on_target(failure.deposit_request), body_option)
        deadline = int(max_return_delay(service_contract).total_seconds())
        lines += [
            "",
            "# Un environnement neuf ne connaît pas ces dépôts : le même dépôt est refait, puis ses retours sont",
            f"# attendus ({expected} au moins ; au plus le délai maximal de retour du contrat, {deadline} s).",
            'if [ "$CONNUS" = 0 ]; then',
            f"  ID=$({deposit} | {JSON_FIELD} idDepot)",
            '  echo "Nouveau dépôt : $ID"',
            f"  FIN=$(( $(date +%s) + ${{ATTENTE:-{deadline}}} ))",
            f'  while [ "$(retours "$ID" | compter)" -lt {expected} ] && [ "$(date +%s)" -lt "$FIN" ]; do',
            "    sleep 1",
            "  done",
            '  echo "Retours reçus pour le dépôt $ID :"',
            '  retours "$ID"; echo',
            "fi",
        ]
    return command, lines
