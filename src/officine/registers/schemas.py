"""What each register entry holds, typed and bounded: one pydantic model per register, with the
French keys people write in files, forms and command lines (the words are in registers.yaml).

Every text is one line of printable characters (whitespace runs become one space), bounded;
dates are real dates; choices are the keys listed in registers.yaml. A refusal names the field
in French (`officine.validation`)."""

from __future__ import annotations

import unicodedata
from datetime import date
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from officine.errors import UserError
from officine.validation import describe
from officine.yamlio import load_yaml

SHORT = 160
LONG = 1000


def _one_line(value: str) -> str:
    """Whitespace runs become one space; control, format and private-use characters are refused
    (a bidi override would make a register say something else than what it holds)."""
    text = " ".join(value.split())
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in text):
        raise ValueError("caractères invisibles ou de contrôle refusés")
    return text


Line = Annotated[str, AfterValidator(_one_line)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    def summary(self) -> str:  # pragma: no cover - every register defines it
        raise NotImplementedError


LegalBasis = Literal[
    "obligation_legale", "mission_interet_public", "contrat", "interet_legitime", "consentement", "interets_vitaux"
]


class Processing(_Entry):
    """One processing of personal data (GDPR art. 30)."""

    nom: Line = Field(min_length=2, max_length=SHORT)
    finalite: Line = Field(min_length=2, max_length=LONG)
    base_legale: LegalBasis
    personnes: Line = Field(min_length=2, max_length=LONG)
    donnees: Line = Field(min_length=2, max_length=LONG)
    donnees_de_sante: bool = False
    destinataires: Line = Field(min_length=2, max_length=LONG)
    conservation: Line = Field(default="", max_length=LONG)  # empty: still to be fixed (RGPD-02)
    transferts: Line = Field(default="Aucun transfert hors de l'Union européenne.", max_length=LONG)
    securite: Line = Field(min_length=2, max_length=LONG)
    aipd: Literal["a_verifier", "realisee", "non_requise"] = "a_verifier"
    remarque: Line = Field(default="", max_length=LONG)

    def summary(self) -> str:
        return self.nom


Medium = Literal[
    "disque_dur", "ssd", "cle_usb", "ordinateur", "telephone", "carte_a_puce", "cd_dvd", "imprimante", "autre"
]
Method = Literal[
    "ecrasement_3_passes",
    "ecrasement_1_passe",
    "effacement_securise",
    "demagnetisation",
    "destruction_physique",
    "reinitialisation_usine",
    "formatage_complet",
    "suppression_simple",
]


class Destruction(_Entry):
    """One medium or device wiped or destroyed before leaving the pharmacy."""

    identifiant: Line = Field(min_length=2, max_length=SHORT)
    support: Medium
    contenu: Line = Field(min_length=2, max_length=LONG)
    methode: Method
    par: Line = Field(min_length=2, max_length=SHORT)
    date: date
    attestation: Line = Field(default="", max_length=SHORT)

    @model_validator(mode="after")
    def _not_in_future(self) -> Destruction:
        if self.date > date.today():
            raise ValueError("la date de destruction ne peut pas être dans le futur")
        return self

    def summary(self) -> str:
        return self.identifiant


CardKind = Literal["cps", "cpe", "e_cps"]
CardState = Literal["active", "perdue", "volee", "expiree", "rendue"]


class Card(_Entry):
    """One CPS/CPE card or e-CPS; a lost or stolen one records its declaration."""

    titulaire: Line = Field(min_length=2, max_length=SHORT)
    type: CardKind
    numero: Line = Field(default="", max_length=40)
    expiration: date | None = None
    etat: CardState = "active"
    date_evenement: date | None = None
    opposition_le: date | None = None
    declaree_a: Line = Field(default="", max_length=SHORT)

    @model_validator(mode="after")
    def _loss(self) -> Card:
        lost = self.etat in ("perdue", "volee")
        if lost and self.date_evenement is None:
            raise ValueError("indiquez la date de la perte ou du vol")
        if not lost and (self.date_evenement or self.opposition_le or self.declaree_a):
            raise ValueError("la perte, le vol et l'opposition ne concernent qu'une carte perdue ou volée")
        if self.date_evenement is not None and self.date_evenement > date.today():
            raise ValueError("la date de la perte ou du vol ne peut pas être dans le futur")
        if self.opposition_le is not None:
            if self.date_evenement is not None and self.opposition_le < self.date_evenement:
                raise ValueError("l'opposition ne peut pas précéder la perte ou le vol")
            if self.opposition_le > date.today():
                raise ValueError("la date d'opposition ne peut pas être dans le futur")
            if not self.declaree_a:
                raise ValueError("indiquez à qui la carte a été déclarée")
        return self

    def summary(self) -> str:
        return self.titulaire


Clause = Literal[
    "contact_securite",
    "confidentialite",
    "hebergement_ue",
    "notification_incidents",
    "sous_traitants",
    "audit",
    "reversibilite",
    "effacement_supports",
]
SessionRule = Literal["chaque_session", "acces_permanent", "sans_objet"]


class Provider(_Entry):
    """One provider and its contract."""

    nom: Line = Field(min_length=2, max_length=SHORT)
    service: Line = Field(min_length=2, max_length=LONG)
    date_contrat: date | None = None
    clauses: list[Clause] = Field(default_factory=list, max_length=8)
    clause_art28: bool = False
    acces_systemes: bool = True
    hebergement: Line = Field(default="", max_length=SHORT)
    donnees_de_sante: bool = False
    certificat_hds: Line = Field(default="", max_length=SHORT)
    hds_expiration: date | None = None
    telemaintenance: Line = Field(default="", max_length=SHORT)
    autorisation_session: SessionRule = "sans_objet"

    @model_validator(mode="after")
    def _consistent(self) -> Provider:
        if len(set(self.clauses)) != len(self.clauses):
            raise ValueError("une clause figure deux fois")
        if self.donnees_de_sante and not self.hebergement:
            raise ValueError("indiquez où sont hébergées les données de santé")
        if self.hds_expiration is not None and not self.certificat_hds:
            raise ValueError("une date d'expiration HDS sans référence de certificat")
        if self.telemaintenance and self.autorisation_session == "sans_objet":
            raise ValueError("indiquez comment chaque session de télémaintenance est autorisée")
        if not self.telemaintenance and self.autorisation_session != "sans_objet":
            raise ValueError("indiquez l'outil de télémaintenance")
        return self

    def summary(self) -> str:
        return self.nom


class SignerPin(_Entry):
    """The certificate a provider's questionnaires must be signed with (register "cles", one
    entry per provider, numbered like the provider): set by the first verified questionnaire or
    reset by the titulaire."""

    certificat: str | None = Field(default=None, max_length=20_000)  # PEM; None: reset, next one is pinned
    empreinte: str = Field(default="", max_length=64)
    origine: Line = Field(default="", max_length=LONG)

    def summary(self) -> str:
        return self.empreinte[:16] or "aucun"


MODELS: dict[str, type[_Entry]] = {
    "traitements": Processing,
    "destructions": Destruction,
    "cartes": Card,
    "prestataires": Provider,
    "cles": SignerPin,
}
PUBLIC = ("traitements", "violations", "destructions", "cartes", "prestataires")


@cache
def words() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(
        resources.files("officine.registers").joinpath("registers.yaml").read_text(encoding="utf-8")
    )
    return data


def label(register: str, field: str) -> str:
    return str(words()["fields"].get(register, {}).get(field, {}).get("label", field))


def choice_label(field: str, value: object) -> str:
    return str(words()["choices"].get(field, {}).get(str(value), value))


def register_title(register: str) -> str:
    return str(words()["registers"][register]["title"])


def model_for(register: str) -> type[_Entry]:
    model = MODELS.get(register)
    if model is None:
        known = ", ".join(r for r in PUBLIC if r != "violations")
        raise UserError(f"Registre inconnu : « {register} ». Registres : {known}.")
    return model


def validate(register: str, data: dict[str, Any], where: str = "") -> _Entry:
    """An entry from what a person gave (a form, a file, a command line), or a French refusal
    naming the field."""
    model = model_for(register)
    labels = {name: label(register, name) for name in model.model_fields}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise UserError(f"{refusal(exc, labels, where)} Rien n'a été enregistré.") from exc


def refusal(exc: ValidationError, labels: dict[str, str], where: str = "") -> str:
    """The first problem of a refused entry in French, and how many others there are."""
    first = exc.errors(include_url=False)[0]
    if first["type"] == "value_error" and not first["loc"]:  # a rule across fields
        text = str((first.get("ctx") or {}).get("error", "valeur refusée"))
    else:
        text = describe(first, labels)
    more = len(exc.errors()) - 1
    suffix = f" (et {more} autre(s) problème(s))" if more else ""
    prefix = f"{where} : " if where else ""
    return f"{prefix}{text}{suffix}."


def field_errors(register: str, data: dict[str, Any]) -> dict[str, str]:
    """Every refused field with its French reason, for a form that marks each one ("" for a rule
    across fields)."""
    model = model_for(register)
    return errors_by_field(model, data, {name: label(register, name) for name in model.model_fields})


def errors_by_field(model: type[BaseModel], data: dict[str, Any], labels: dict[str, str]) -> dict[str, str]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        found: dict[str, str] = {}
        for err in exc.errors(include_url=False):
            key = str(err["loc"][0]) if err["loc"] else ""
            if key in found:
                continue
            if err["type"] == "value_error" and not err["loc"]:
                found[key] = str((err.get("ctx") or {}).get("error", "valeur refusée"))
            else:
                found[key] = describe({**err, "loc": ()}, labels)
        return found
    return {}
