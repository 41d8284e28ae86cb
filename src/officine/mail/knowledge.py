"""The analyser's words and lists, as data: reasons (weights, French texts), advice, known
organisations, file kinds and French wording. Loaded once and checked, so that a text using a
field the analyser never fills, or a code without a text, stops the program at start-up."""

from __future__ import annotations

import fnmatch
import re
import string
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from officine.errors import UserError
from officine.validation import explain
from officine.yamlio import load_yaml

Verdict = Literal["dangereux", "suspect", "rien_d_anormal"]
VERDICTS: tuple[Verdict, ...] = ("dangereux", "suspect", "rien_d_anormal")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReasonText(_Strict):
    theme: str
    poids: int = Field(ge=0, le=100)
    texte: str


class Advice(_Strict):
    texte: str
    quand: tuple[Verdict, ...] = ()
    si: tuple[str, ...] = ()


class VerdictText(_Strict):
    titre: str
    resume: str


class Thresholds(_Strict):
    suspect: int = Field(gt=0)
    dangereux: int = Field(gt=0)


class ReasonsFile(_Strict):
    seuils: Thresholds
    verdicts: dict[Verdict, VerdictText]
    themes: dict[str, str]
    raisons: dict[str, ReasonText]
    conseils: dict[str, Advice]
    manieres: dict[str, str]
    genres: dict[str, str]


class Organisation(_Strict):
    nom: str = Field(min_length=1, max_length=120)
    genre: str = Field(default="autre", max_length=32)
    domaines: tuple[str, ...] = Field(min_length=1)
    noms: tuple[str, ...] = ()
    jetons: tuple[str, ...] = ()


class SendersFile(_Strict):
    organismes: tuple[Organisation, ...]
    messageries_gratuites: tuple[str, ...]
    raccourcisseurs: tuple[str, ...]


class Extensions(_Strict):
    executable: frozenset[str]
    installeur: frozenset[str]
    script: frozenset[str]
    raccourci: frozenset[str]
    hta: frozenset[str]
    iso: frozenset[str]
    img: frozenset[str]
    vhd: frozenset[str]
    html: frozenset[str]
    office: frozenset[str]
    pdf: frozenset[str]
    archive: frozenset[str]
    document: frozenset[str]


class IndicatorsFile(_Strict):
    extensions: Extensions
    formulations: dict[str, tuple[str, ...]]
    mot_de_passe_donne: str
    domaines_mssante: tuple[str, ...]


# The fields each reason's text may use: what the analyser fills. A text asking for another
# field is a mistake caught at load, not a KeyError in front of a pharmacist.
REASON_FIELDS: dict[str, frozenset[str]] = {
    "expediteur_nom_marque": frozenset({"nom", "organisme", "adresse"}),
    "expediteur_nom_autre_adresse": frozenset({"affichee", "adresse"}),
    "expediteur_sosie": frozenset({"adresse", "modele", "organisme", "maniere"}),
    "expediteur_webmail_organisme": frozenset({"organisme", "domaine"}),
    "expediteur_absent": frozenset({"valeur"}),
    "repondre_a_different": frozenset({"repondre_a", "adresse"}),
    "repondre_a_webmail": frozenset({"repondre_a", "organisme"}),
    "chemin_retour_different": frozenset({"chemin_retour", "adresse"}),
    "expediteur_connu": frozenset({"organisme", "domaine"}),
    "auth_dmarc_echec": frozenset({"serveur", "domaine", "resultat"}),
    "auth_spf_echec": frozenset({"serveur", "domaine", "resultat"}),
    "auth_dkim_echec": frozenset({"serveur", "resultat"}),
    "auth_absente": frozenset({"serveur"}),
    "auth_reussie": frozenset({"serveur", "domaine", "methodes"}),
    "auth_non_verifiee": frozenset({"cause"}),
    "auth_entete_ignore": frozenset({"nombre", "serveurs", "serveur"}),
    "lien_texte_trompeur": frozenset({"affiche", "reel"}),
    "lien_sosie": frozenset({"domaine", "modele", "organisme", "maniere"}),
    "lien_adresse_ip": frozenset({"hote"}),
    "lien_raccourci": frozenset({"domaine"}),
    "lien_punycode": frozenset({"domaine", "unicode"}),
    "lien_fichier_risque": frozenset({"fichier"}),
    "lien_script": frozenset({"schema"}),
    "lien_domaine_etranger": frozenset({"organisme", "domaines"}),
    "formulaire": frozenset({"cible"}),
    "formulaire_mot_de_passe": frozenset({"cible"}),
    "pj_executable": frozenset({"nom", "genre"}),
    "pj_image_disque": frozenset({"nom", "genre"}),
    "pj_double_extension": frozenset({"nom", "apparente", "reelle"}),
    "pj_type_deguise": frozenset({"nom", "annonce", "reel"}),
    "pj_html": frozenset({"nom"}),
    "pj_html_script": frozenset({"nom", "quoi"}),
    "pj_macros": frozenset({"nom", "details"}),
    "pj_liens_externes": frozenset({"nom", "cibles"}),
    "pj_objet_incorpore": frozenset({"nom", "quoi"}),
    "pj_office_chiffre": frozenset({"nom"}),
    "pj_pdf_actif": frozenset({"nom", "quoi"}),
    "pj_pdf_fichier": frozenset({"nom"}),
    "pj_archive_chiffree": frozenset({"nom", "contenu"}),
    "pj_mot_de_passe_dans_message": frozenset({"extrait"}),
    "pj_archive_non_inspectee": frozenset({"nom", "cause"}),
    "pj_archive_bombe": frozenset({"nom", "cause"}),
    "pj_illisible": frozenset({"nom", "cause"}),
    "texte_urgence": frozenset({"extraits"}),
    "texte_menace": frozenset({"extraits"}),
    "texte_paiement": frozenset({"extraits"}),
    "texte_identifiants": frozenset({"extraits"}),
    "texte_gain": frozenset({"extraits"}),
    "texte_fortune": frozenset({"extraits"}),
    "donnees_sante_hors_mssante": frozenset({"extraits"}),
    "message_malforme": frozenset({"defauts"}),
    "analyse_partielle": frozenset({"cause"}),
}
MANNER_FIELDS = frozenset({"domaine", "modele", "marque", "ascii"})
WORDING_CODES = frozenset(
    {
        "texte_urgence",
        "texte_menace",
        "texte_paiement",
        "texte_identifiants",
        "texte_gain",
        "texte_fortune",
        "donnees_sante_hors_mssante",
    }
)


class KnowledgeError(UserError):
    pass


def fold(text: str) -> str:
    """Lower case without accents, whitespace collapsed: how names and wording are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.replace("’", "'").split())


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class KnownOrg:
    """An organisation with its names prepared for matching."""

    name: str
    kind: str
    domains: tuple[str, ...]
    name_patterns: tuple[re.Pattern[str], ...]
    tokens: tuple[str, ...]
    added_by: str | None = None

    def owns(self, host: str) -> bool:
        """`host` is one of the organisation's domains or a sub-domain of one."""
        for domain in self.domains:
            if "*" in domain:
                if fnmatch.fnmatchcase(host, domain) or fnmatch.fnmatchcase(host, "*." + domain):
                    return True
            elif host == domain or host.endswith("." + domain):
                return True
        return False

    @property
    def plain_domains(self) -> tuple[str, ...]:
        return tuple(d for d in self.domains if "*" not in d)


def prepare(org: Organisation, added_by: str | None = None) -> KnownOrg:
    patterns = tuple(re.compile(r"(?<![a-z0-9])" + re.escape(fold(n)) + r"(?![a-z0-9])") for n in org.noms if fold(n))
    tokens = tuple(t for t in (fold(t).replace("-", "").replace(" ", "") for t in org.jetons) if len(t) >= 4)
    domains = tuple(d.strip().lower().rstrip(".") for d in org.domaines if d.strip())
    return KnownOrg(org.nom, org.genre, domains, patterns, tokens, added_by)


@dataclass(frozen=True)
class Knowledge:
    reasons: ReasonsFile
    orgs: tuple[KnownOrg, ...]
    webmails: frozenset[str]
    shorteners: frozenset[str]
    extensions: Extensions
    wording: dict[str, tuple[re.Pattern[str], ...]]
    password_given: re.Pattern[str]
    mssante_domains: tuple[str, ...]
    extra: tuple[KnownOrg, ...] = field(default=())

    def with_orgs(self, extra: tuple[KnownOrg, ...]) -> Knowledge:
        """The same knowledge with the pharmacy's own known senders added."""
        return Knowledge(
            self.reasons,
            self.orgs + extra,
            self.webmails,
            self.shorteners,
            self.extensions,
            self.wording,
            self.password_given,
            self.mssante_domains,
            extra,
        )

    def text(self, code: str, fields: dict[str, str]) -> str:
        return self.reasons.raisons[code].texte.format(**fields)

    def weight(self, code: str) -> int:
        return self.reasons.raisons[code].poids


def _load(name: str, model: type[BaseModel]) -> Any:
    text = resources.files("officine.mail").joinpath(name).read_text(encoding="utf-8")
    data = load_yaml(text)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise KnowledgeError(f"Données de l'analyseur de courriels invalides ({name}) : {explain(exc)}") from exc


def check(reasons: ReasonsFile, indicators: IndicatorsFile) -> None:
    """Every code has a text, every text uses only fields the analyser fills."""
    problems = []
    for code, allowed in REASON_FIELDS.items():
        entry = reasons.raisons.get(code)
        if entry is None:
            problems.append(f"la raison {code} n'a pas de texte")
            continue
        if entry.theme not in reasons.themes:
            problems.append(f"la raison {code} a un thème inconnu ({entry.theme})")
        unknown = _fields(entry.texte) - allowed
        if unknown:
            problems.append(f"le texte de {code} utilise {', '.join(sorted(unknown))}, que l'analyseur ne remplit pas")
    problems += [
        f"la raison {code} n'est jamais donnée par l'analyseur"
        for code in reasons.raisons.keys() - REASON_FIELDS.keys()
    ]
    for key, advice in reasons.conseils.items():
        problems += [f"le conseil {key} cite une raison inconnue ({c})" for c in advice.si if c not in reasons.raisons]
    for key, manner in reasons.manieres.items():
        unknown = _fields(manner) - MANNER_FIELDS
        if unknown:
            problems.append(f"la manière {key} utilise {', '.join(sorted(unknown))}")
    problems += [
        f"formulations : {c} n'est pas une raison de texte" for c in indicators.formulations.keys() - WORDING_CODES
    ]
    for code, patterns in indicators.formulations.items():
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"formulation {code} « {pattern} » : {exc}")
    if problems:
        raise KnowledgeError("Données de l'analyseur de courriels incohérentes : " + " ; ".join(problems) + ".")


@cache
def knowledge() -> Knowledge:
    reasons: ReasonsFile = _load("reasons.yaml", ReasonsFile)
    senders: SendersFile = _load("senders.yaml", SendersFile)
    indicators: IndicatorsFile = _load("indicators.yaml", IndicatorsFile)
    check(reasons, indicators)
    return Knowledge(
        reasons=reasons,
        orgs=tuple(prepare(o) for o in senders.organismes),
        webmails=frozenset(d.lower() for d in senders.messageries_gratuites),
        shorteners=frozenset(d.lower() for d in senders.raccourcisseurs),
        extensions=indicators.extensions,
        wording={code: tuple(re.compile(p) for p in patterns) for code, patterns in indicators.formulations.items()},
        password_given=re.compile(indicators.mot_de_passe_donne),
        mssante_domains=tuple(indicators.domaines_mssante),
    )
