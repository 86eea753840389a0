"""Every check the harness applies is proven able to fail: a fault of the reference makes it fail.

`PROOFS` is the table: each row arms one fault (`harness/reference/faults/`), runs the campaign on the
scenarios that row names, and expects that scenario to fail at that check (a BDD « Alors » step, or a
callback-conformance rule). A row marked `external` runs the reference as an external platform, known to
the campaign only through its configuration (`RunConfig`, as `recette run --config` reads it), with what a
vendor provides for its recette environment: the checks that must apply to a real platform are proven there.
`UNPROVABLE` lists the checks no fault of a titulaire can fail on its own, each with why. A new step or rule
in neither table fails `test_every_check_has_a_proof`.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import parse
import pytest

from harness.campaign.config import RunConfig
from harness.campaign.environment import Environment
from harness.campaign.results import FAILED, CampaignReport, ScenarioResult
from harness.campaign.runner import SUITES_DIR, RunOptions, run_campaign
from harness.conformance.returns import MODE_RULES, RULES
from harness.foundations.billing import BillingTags
from harness.foundations.clock import utc_now
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.foundations.servers import free_port
from harness.reference.faults import FAULTS, Answer, Fault, FaultSet, arm
from harness.reference.settings import ReferenceSettings
from tests.conftest import TESTS_DAY, start_environment

STEP_FILES = (
    *sorted((SUITES_DIR / "bdd" / "steps").glob("*.py")),
    SUITES_DIR / "securite" / "steps.py",
    SUITES_DIR / "papier" / "steps.py",
    SUITES_DIR / "dossiers" / "steps.py",
)
RETURNS = "Chaque dépôt de l'exécution a son unique retour conforme"
RETURNS_TEST = "chaque_depot_a_un_retour_conforme"


@dataclass(frozen=True)
class Proof:
    """Armed alone, `fault` makes the scenario `scenario` (its title's start) fail at `check`."""

    fault: str
    check: str
    """The text of an `@then` step (as its decorator writes it), or a rule of `conformance.callbacks.RULES`."""
    scenario: str
    keywords: str
    """The pytest `-k` expression selecting the scenario (and nothing slow beside it)."""
    suites: tuple[str, ...] = ("bdd",)
    short_deadline: bool = False
    """Judged against a recette service contract whose `delaiMaxRetour` is short (`SHORT_DEADLINE`)."""
    day: date = TESTS_DAY
    """The date the campaign is judged at; `OVERLAP` for what needs both majors served."""
    version: str | None = None
    """The major run (None: the calendar's current one on `day`)."""
    external: bool = False
    """Against the reference run as an external platform (`external_campaign`)."""
    return_channel: str = "api"
    """Where the embedded reference returns its archives' results (`--canal-retour`)."""


def returns_proof(fault: str, rule: str, short_deadline: bool = False) -> Proof:
    """A conformance rule, judged on the returns of one plain deposit scenario."""
    return Proof(fault, rule, RETURNS, f"initial_est or {RETURNS_TEST}", ("bdd", "contrat"), short_deadline)


SHORT_DEADLINE = "PT3S"
OVERLAP = date(2027, 3, 1)
"""v1 deprecated, v2 published: both majors served."""


@functools.cache
def short_service_contract() -> Path:
    """The ASP's service contract with `delaiMaxRetour` of `SHORT_DEADLINE`, as a recette platform may publish."""
    text = contract_path(SERVICE_CONTRACT).read_text(encoding="utf-8")
    assert "delaiMaxRetour: PT5M" in text
    path = Path(tempfile.mkdtemp(prefix="recette-contrat-court-")) / "contrat-de-service.yaml"
    path.write_text(text.replace("delaiMaxRetour: PT5M", f"delaiMaxRetour: {SHORT_DEADLINE}"), encoding="utf-8")
    return path


RECEIPT = "le titulaire accuse réception avec un identifiant unique de dépôt"
RECEIPT_FIGURES = "l'accusé de réception indique la taille reçue et l'empreinte des documents déposés"
ONE_RETURN = "l'ASP reçoit exactement un retour fidèle au dépôt"
ONLY_ONE_RETURN = "l'ASP reçoit exactement un retour pour le dépôt"
ERRORS = "Le titulaire refuse la demande"
EARLY_REFUSAL = "le titulaire refuse le dépôt avant d'en avoir reçu tout le corps"
RETRIED = "le titulaire réessaie le retour refusé après le délai demandé par l'ASP, jusqu'à son acquittement"
NO_DUPLICATE = "aucun retour n'est remis en double après le rétablissement"
GAVE_UP = "le titulaire renonce à remettre le retour après plusieurs tentatives et le dépôt passe en échec"
SECURITY_CHECK = "le contrôle « {nom} » est réussi"
LEAK_CHECK = "Contrôle de sécurité : Aucune réponse d'erreur ne divulgue"
PLI_RETURNS = "l'ASP reçoit exactement un retour conforme pour chaque pli"
PLI_PROOFS = (
    ("pli-id-hors-motif", "Un pli posté", "une_fois_avec"),
    ("pli-id-repete", "Les dates et les identifiants", "se_suivent"),
    ("pli-dates-desordonnees", "Un pli posté", "une_fois_avec"),
    ("pli-uid-repete", "Les dates et les identifiants", "se_suivent"),
    ("retour-double", "Un pli de plusieurs pages", "plusieurs_pages"),
)
"""Faults of the returns of plis, each failing the paper judge in one scenario of the `papier` suite."""
PROOFS = (
    Proof("location-absente", RECEIPT, "Un dépôt initial est reçu", "initial_est"),
    Proof("empreinte-accusee-fausse", RECEIPT_FIGURES, "Le titulaire accuse réception du dépôt", "acquitte_son"),
    Proof("identifiant-repete", "chaque dépôt reçoit son propre identifiant", "Deux dépôts", "chacun_leur"),
    Proof(
        "idempotence-ignoree",
        "le titulaire renvoie le même accusé de réception sans créer de second dépôt",
        "Un dépôt rejoué",
        "rejou",
    ),
    Proof(
        "etat-sans-donnees-metier",
        "l'état du dépôt rappelle son identifiant et ses métadonnées",
        "L'identifiant",
        "suivre",
    ),
    Proof("retour-double", ONE_RETURN, "Un dépôt initial est reçu", "initial_est"),
    Proof("empreinte-piece-fausse", ONE_RETURN, "Un dépôt initial est reçu", "initial_est"),
    Proof("retour-double", ONLY_ONE_RETURN, "Le retour d'un dépôt sans", "invente_aucune"),
    Proof("retour-double", "l'ASP reçoit exactement un retour pour chaque dépôt", "Un dépôt complémentaire", "suit_le"),
    Proof(
        "retour-sans-metadonnee",
        "le retour porte toutes les métadonnées du dépôt :",
        "Le retour d'un dépôt sans",
        "invente_aucune",
    ),
    Proof(
        "retour-metadonnee-inventee",
        "le retour ne porte ni référence de contrat ni empreinte SAE, absentes du dépôt",
        "Le retour d'un dépôt sans",
        "invente_aucune",
    ),
    Proof(
        "retour-iteration-decalee",
        "chaque retour porte le même dossier et le numéro d'itération de son dépôt",
        "Un dépôt complémentaire",
        "suit_le",
    ),
    Proof(
        "retour-toujours-hors-contrat",
        "l'ASP acquitte ce retour",
        "Le titulaire accuse réception du dépôt",
        "acquitte_son",
    ),
    Proof(
        "acquittement-mal-enregistre",
        "le titulaire enregistre l'acquittement de l'ASP dans l'état du dépôt",
        "Le titulaire accuse réception du dépôt",
        "acquitte_son",
    ),
    Proof("depot-inconnu-en-400", "le titulaire répond {status:d}", f"{ERRORS} : dépôt inconnu", "refuse_la_demande"),
    Proof(
        "erreur-500-metadonnees",
        "le titulaire répond {status:d}",
        f"{ERRORS} : métadonnées invalides",
        "refuse_la_demande",
    ),
    Proof(
        "erreur-sans-code",
        'l\'erreur est décrite en problem+json avec le code "{code}"',
        f"{ERRORS} : dépôt inconnu",
        "refuse_la_demande",
    ),
    Proof(
        "retransmission-nouveau-retour",
        "le titulaire accepte de retransmettre le même retour",
        "Pendant la conservation",
        "retransmission_renvoie",
    ),
    Proof(
        "retransmission-modifiee",
        "l'ASP reçoit de nouveau le même retour, reconnu comme une nouvelle livraison sans violation",
        "Pendant la conservation",
        "retransmission_renvoie",
    ),
    Proof(
        "conservation-courte",
        "le titulaire conserve le résultat au moins 3 mois",
        "Pendant la conservation",
        "retransmission_renvoie",
    ),
    Proof("depot-expire-inconnu", "la consultation du dépôt répond qu'il a expiré", "Passé la durée", "est_expir"),
    Proof(
        "retransmission-expiree-indisponible",
        "la retransmission du retour répond que le dépôt a expiré",
        "Passé la durée",
        "est_expir",
    ),
    Proof(
        "etiquettes-perdues",
        "le titulaire a enregistré chaque dépôt avec l'identifiant d'exécution et le motif de la recette",
        "Les dépôts comptés",
        "par_le_harnais",
    ),
    Proof(
        "octets-mal-comptes",
        "les dépôts et les octets comptés par le harnais pendant le scénario sont ceux que le titulaire a enregistrés",
        "Les dépôts comptés",
        "par_le_harnais",
    ),
    Proof(
        "sans-nouvelle-tentative",
        "le titulaire renonce à remettre le retour après plusieurs tentatives et le dépôt passe en échec",
        "Un retour impossible",
        "impossible",
    ),
    Proof("incident-sans-depot", "un incident est ouvert pour ce dépôt", "Un retour impossible", "impossible"),
    Proof("courriel-incident-mal-adresse", "un courriel d'incident alerte l'ASP", "Un retour impossible", "impossible"),
    Proof(
        "taille-accusee-fausse",
        "la transaction complète mesure exactement la limite",
        "Une transaction de 20 Mo",
        "octet_de_plus",
    ),
    Proof(
        "limite-depassee-acceptee",
        "le titulaire refuse le dépôt et renvoie vers le mode dossier",
        "Une transaction de 20 Mo",
        "octet_de_plus",
    ),
    Proof(
        "reponse-hors-contrat",
        "la version {first:d} et la version {second:d} sont servies",
        "Les deux majeures",
        "majeures_sont",
        day=OVERLAP,
        version="v1",
    ),
    Proof(
        "v2-dossier-mal-traduit",
        "le dépôt est consultable en version {number:d} avec son dossier",
        "Les deux majeures",
        "majeures_sont",
        day=OVERLAP,
        version="v1",
    ),
    Proof(
        "depreciation-anticipee",
        "la réponse ne porte aucun signal de dépréciation",
        "La version 1 ne se dit pas",
        "ne_se_dit_pas",
    ),
    Proof(
        "depreciation-anticipee",
        "la réponse porte les dates de dépréciation et de fin de vie",
        "Une fois dépréciée",
        "lannonce",
    ),
    Proof("version-jamais-retiree", "le titulaire répond {status:d}", "Après sa fin de vie", "sa_fin_de_vie"),
    Proof(
        "guide-de-migration-absent",
        "la réponse renvoie vers la version 2 et vers le guide de migration",
        "Une fois dépréciée",
        "lannonce",
    ),
    Proof(
        "jeton-non-verifie",
        "le contrôle « {nom} » est réussi",
        "Contrôle de sécurité : Appel sans jeton refusé (401)",
        "",
        ("securite",),
    ),
    returns_proof("premier-retour-hors-contrat", "retour-conforme-au-contrat-titulaire"),
    returns_proof("premier-retour-hors-contrat", "retour-conforme-au-contrat-asp"),
    returns_proof("retour-double", "retour-unique"),
    returns_proof("retour-sans-metadonnee", "metadonnees-identiques"),
    returns_proof("empreinte-piece-fausse", "pieces-concordantes"),
    # The late return of the first deposit arrives while the judge still waits for the second one's.
    Proof(
        "retour-tardif",
        "delai-de-retour",
        RETURNS,
        f"initial_est or suit_le or {RETURNS_TEST}",
        ("bdd", "contrat"),
        short_deadline=True,
    ),
    returns_proof("retour-jamais-envoye", "retour-recu", short_deadline=True),
    returns_proof("retour-autre-depot", "idDepot-identique", short_deadline=True),
    returns_proof("retour-sans-jeton", "retour-authentifie", short_deadline=True),
    Proof("taille-annoncee-ignoree", EARLY_REFUSAL, "Une taille annoncée", "avant_la_lecture", external=True),
    Proof("delai-de-reessai-ignore", RETRIED, "Un retour refusé par l'ASP", "remis_une_seule", external=True),
    Proof("retour-double", NO_DUPLICATE, "Un retour refusé par l'ASP", "remis_une_seule", external=True),
    Proof("sans-nouvelle-tentative", GAVE_UP, "Un retour impossible", "impossible", external=True),
    Proof(
        "trace-dans-le-detail",
        SECURITY_CHECK,
        LEAK_CHECK,
        "refuse_la_demande or divulgue",
        ("bdd", "securite"),
        external=True,
    ),
    Proof(
        "certificat-expire-accepte",
        SECURITY_CHECK,
        "Contrôle de sécurité : Certificat client expiré",
        "client and expir",
        ("securite",),
    ),
    Proof(
        "jeton-expire-accepte",
        SECURITY_CHECK,
        "Contrôle de sécurité : Jeton expiré",
        "expir",
        ("securite",),
        external=True,
    ),
    Proof(
        "depot-expire-inconnu",
        "la consultation du dépôt répond qu'il a expiré",
        "Passé la durée",
        "est_expir",
        external=True,
    ),  # The defect classes a real platform may have, caught against the reference run as an external platform.
    Proof(
        "audience-non-verifiee",
        SECURITY_CHECK,
        "Contrôle de sécurité : Jeton destiné",
        "API",
        ("securite",),
        external=True,
    ),
    Proof(
        "portee-non-verifiee",
        SECURITY_CHECK,
        "Contrôle de sécurité : Portée",
        "insuffisante",
        ("securite",),
        external=True,
    ),
    Proof(
        "lien-certificat-ignore",
        SECURITY_CHECK,
        "Contrôle de sécurité : Jeton lié",
        "certificat",
        ("securite",),
        external=True,
    ),
    Proof(
        "conservation-moitie",
        "le titulaire conserve le résultat au moins 3 mois",
        "Pendant la conservation",
        "retransmission_renvoie",
        external=True,
    ),
    Proof(
        "retransmission-expiree-indisponible",
        "la retransmission du retour répond que le dépôt a expiré",
        "Passé la durée",
        "est_expir",
        external=True,
    ),
    *(Proof(fault, PLI_RETURNS, scenario, keywords, ("papier",)) for fault, scenario, keywords in PLI_PROOFS),
    Proof("retour-tardif", PLI_RETURNS, "Un pli posté", "une_fois_avec", ("papier",), short_deadline=True),
    Proof(
        "pli-illisible-traite",
        'le retour du pli est rejeté pour le contrôle "{code}"',
        "Un pli illisible",
        "illisible",
        ("papier",),
    ),
    Proof(
        "retransmission-modifiee",
        "l'ASP reçoit de nouveau le même retour du pli",
        "Le retour d'un pli",
        "retransmis",
        ("papier",),
    ),
    returns_proof("retour-api-avec-pli", MODE_RULES, short_deadline=True),  # refused returns: retried until ECHEC
)

# -- the archive mode (the `dossiers` suite) -----------------------------------------------------------
ARCHIVE = "Une archive zip est notifiée"
SAE_MISMATCH = "Une archive dont l'empreinte SAE ne correspond"
PROOFS = (
    *PROOFS,
    Proof(
        "notification-sans-empreinte",
        "le titulaire publie dans le délai une notification de réception acceptée, conforme à la convention",
        ARCHIVE,
        "notifi",
        ("dossiers",),
    ),
    Proof(
        "uid-de-piece-remplace",
        "l'ASP reçoit dans le délai exactement un retour pour l'archive, avec les métadonnées du manifeste "
        "et l'UID de chaque pièce",
        ARCHIVE,
        "notifi",
        ("dossiers",),
    ),
    Proof(
        "motif-de-rejet-generique",
        'le titulaire publie dans le délai une notification de rejet de motif "{code}" pour chaque archive',
        SAE_MISMATCH,
        "ne_correspond",
        ("dossiers",),
    ),
    Proof(
        "motif-de-rejet-generique",
        "le titulaire publie dans le délai une notification de rejet du motif attendu pour chaque archive",
        "Des archives dangereuses sont refusées",
        "chemins",
        ("dossiers",),
    ),
    Proof(
        "courriel-incident-mal-adresse",
        "un courriel d'incident nommant chaque archive refusée alerte l'ASP",
        SAE_MISMATCH,
        "ne_correspond",
        ("dossiers",),
    ),
    Proof(
        "extraction-hors-dossier",
        "rien n'est écrit hors du dossier de travail de l'archive",
        "Une archive qui tente d'écrire hors",
        "tente",
        ("dossiers",),
    ),
)

# -- the return-archive channel (the `dossiers` suite, `--canal-retour archive`) ------------------------------
BY_ARCHIVE = "Le retour d'une archive déposé en archive"
ARCHIVE_RETURN = (
    "l'ASP reçoit dans le délai exactement un retour pour l'archive, avec les métadonnées du manifeste "
    "et l'UID de chaque pièce"
)
PROOFS = (
    *PROOFS,
    Proof(
        "retour-archive-sans-retour-json",
        ARCHIVE_RETURN,
        BY_ARCHIVE,
        "retire",
        ("dossiers",),
        return_channel="archive",
    ),
    Proof("retour-archive-par-api", ARCHIVE_RETURN, BY_ARCHIVE, "retire", ("dossiers",), return_channel="archive"),
    Proof(
        "acquittement-jamais-retire",
        "l'ASP acquitte le retour déposé en archive et le titulaire retire l'acquittement",
        BY_ARCHIVE,
        "retire",
        ("dossiers",),
        short_deadline=True,
        return_channel="archive",
    ),
)
UNPROVABLE: dict[str, str] = {
    'le pli "{reference}" est signalé manquant': "juge le rapport du harnais sur un pli que personne n'a posté : "
    "aucun défaut d'un titulaire ne le fait revenir",
}
"""Checks without a proof, and why (each deserves its own issue)."""


def then_steps() -> set[str]:
    """The text of every `@then` step of the campaign's suites, read from their source."""
    texts = set()
    for path in STEP_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                texts |= {_step_text(d) for d in node.decorator_list if _is_then(d)}
    return texts


def _is_then(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name) and decorator.func.id == "then"


def _step_text(decorator: ast.expr) -> str:
    assert isinstance(decorator, ast.Call)
    argument = decorator.args[0]
    if isinstance(argument, ast.Call):  # parsers.parse("…")
        argument = argument.args[0]
    assert isinstance(argument, ast.Constant), ast.dump(argument)
    assert isinstance(argument.value, str), ast.dump(argument)
    return argument.value


# -- the tables --------------------------------------------------------------------------------------


def test_every_check_has_a_proof() -> None:
    checks = then_steps() | set(RULES)
    proven = {proof.check for proof in PROOFS}
    assert checks - proven - set(UNPROVABLE) == set(), "checks without a fault that makes them fail"
    assert proven | set(UNPROVABLE) <= checks, "the tables name checks that no longer exist"
    assert not proven & set(UNPROVABLE)


def test_every_fault_is_in_the_table_and_described_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert {proof.fault for proof in PROOFS} == set(FAULTS)
    assert all(f"`{name}`" in readme and fault.description for name, fault in FAULTS.items())


def test_an_unknown_fault_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown faults \['panne-inventee'\]: choose among \[.*'retour-double'"):
        ReferenceSettings(tmp_path, "https://asp.test/v1/retours", faults=("panne-inventee",))


def test_without_faults_every_hook_hands_its_value_back() -> None:
    answer = Answer(202, {"idDepot": "x"}, {"Location": "/v1/depots/x"})
    assert FaultSet().apply(Fault.deposit_answer, answer) is answer
    assert FaultSet().gather(Fault.after_delivery, {"idRetour": "r"}) == []


def test_armed_faults_apply_in_order_each_with_its_own_state() -> None:
    faults = arm(["identifiant-repete", "location-absente"])
    first = faults.apply(Fault.deposit_answer, Answer(202, {"idDepot": "a"}, {"Location": "/v1/depots/a"}))
    second = faults.apply(Fault.deposit_answer, Answer(202, {"idDepot": "b"}, {"Location": "/v1/depots/b"}))
    assert (first.body, second.body, second.headers) == ({"idDepot": "a"}, {"idDepot": "a"}, {})
    assert arm(["identifiant-repete"]).apply(Fault.deposit_answer, Answer(202, {"idDepot": "c"})).body == {
        "idDepot": "c"
    }


# -- the campaigns -----------------------------------------------------------------------------------


@functools.cache
def campaign(
    faults: tuple[str, ...],
    suites: tuple[str, ...],
    keywords: str,
    short_deadline: bool = False,
    day: date = TESTS_DAY,
    version: str | None = None,
    external: bool = False,
    return_channel: str = "api",
) -> CampaignReport:
    """One campaign on the reference with `faults` armed, judged at `day` (cached: proofs of one fault share
    it): the embedded reference, or the reference run as an external platform."""
    report_dir = Path(tempfile.mkdtemp(prefix=f"recette-{'-'.join(faults) or 'sans-defaut'}-"))
    tags = BillingTags.create("build:tests-defauts")
    options = RunOptions(
        report_dir,
        tags,
        suites,
        reference_faults=faults,
        keywords=keywords or None,
        day=day,
        version=version,
        return_channel=return_channel,
    )
    if short_deadline:
        options = dataclasses.replace(options, service_contract=short_service_contract())
    return external_campaign(options) if external else run_campaign(options)


INCIDENT_MAIL = "incidents-recette@asp.example"
"""The ASP's incident address the external reference alerts (its `incident_mail_to`)."""
RECETTE_RETENTION = "PT8S"
"""The short retention the external reference keeps and publishes for its recette environment."""


def external_campaign(options: RunOptions) -> CampaignReport:
    """`options` run against a reference the campaign did not start: it knows it through a `RunConfig` with what
    a vendor provides for recette (test signing key, read-only client, incident address, a service contract
    with a short retention). The reference runs on real time, as a real platform does."""
    with tempfile.TemporaryDirectory(prefix="recette-externe-") as directory:
        port = free_port()
        env = start_environment(
            Path(directory),
            utc_now,
            faults=options.reference_faults,
            callback_url=f"https://127.0.0.1:{port}/v1/retours",
            retention=RECETTE_RETENTION,
            incident_mail_to=INCIDENT_MAIL,
        )
        try:
            config = external_config(env, port, Path(directory))
            contract = recette_service_contract(Path(directory), options.service_contract)
            return run_campaign(dataclasses.replace(options, config=config, service_contract=contract))
        finally:
            env.stop()


def external_config(env: Environment, port: int, directory: Path) -> RunConfig:
    key = env.issuer.export_signing_key(directory / "cle-de-test-emetteur.json")  # the mock's own key
    reader = env.credentials("asp-lecture")
    return RunConfig(
        target=env.titulaire_url,
        ca=env.certs.ca,
        client_cert=env.certs.asp_client.cert,
        client_key=env.certs.asp_client.key,
        token_url=env.token_url,
        client_id="asp-recette",
        client_secret=env.credentials().client_secret,
        callback_url=f"https://127.0.0.1:{port}",
        callback_cert=env.certs.server.cert,
        callback_key=env.certs.server.key,
        incident_mail=INCIDENT_MAIL,
        read_client_id=reader.client_id,
        read_client_secret=reader.client_secret,
        test_signing_key=key,
    )


def recette_service_contract(directory: Path, base: Path | None) -> Path:
    """`base` (the ASP's by default) publishing `RECETTE_RETENTION` for the recette environment."""
    text = (base or contract_path(SERVICE_CONTRACT)).read_text(encoding="utf-8")
    assert "  dureeParDefaut: P3M\n" in text
    path = directory / "contrat-de-service-recette.yaml"
    text = text.replace("  dureeParDefaut: P3M\n", f"  dureeParDefaut: P3M\n  dureeEnRecette: {RECETTE_RETENTION}\n")
    path.write_text(text, encoding="utf-8")
    return path


def selection_of(proof: Proof) -> tuple[tuple[str, ...], bool, date, str | None, bool, str]:
    """What a campaign without faults shares with the proofs it vouches for."""
    return proof.suites, proof.short_deadline, proof.day, proof.version, proof.external, proof.return_channel


def result_of(report: CampaignReport, scenario: str) -> ScenarioResult:
    matching = [r for r in report.results if r.scenario.startswith(scenario)]
    assert matching, f"« {scenario} » did not run: {[r.scenario for r in report.results]}"
    return matching[0]


def caught_at(result: ScenarioResult, check: str) -> bool:
    """Whether `result` failed at the step `check` (keyword, then its text) or on the rule `check`."""
    if check in RULES:
        return any(f"{check} :" in evidence for evidence in result.evidence)
    keyword, _, text = (result.failed_step or "").partition(" ")
    return keyword in ("Alors", "Et") and parse.parse(check, text) is not None


@pytest.mark.slow
@pytest.mark.parametrize("proof", PROOFS, ids=lambda p: f"{p.fault}→{p.check[:40]}")
def test_the_fault_fails_its_check(proof: Proof) -> None:
    report = campaign((proof.fault,), proof.suites, proof.keywords, *selection_of(proof)[1:])
    result = result_of(report, proof.scenario)
    assert not report.qualified
    assert result.outcome == FAILED, f"{result.scenario} : {result.outcome}"
    assert caught_at(result, proof.check), f"{result.failed_step} ; {result.evidence[-1:]}"


MAIL_NOT_OBSERVED = {"Un retour impossible"}
"""Against an external platform without an ASP side (`callback.dir`), the run has no SMTP catcher: the mail check
is a reservation at once (with one, `tests/test_remote_platform.py` judges the mail and proves the check fails)."""
