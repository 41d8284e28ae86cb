"""Measures judged from the pharmacy's registers (`registers.state`, built by
`officine.services.registers`): one finding per register entry, naming it.

Two kinds of measures here:
- the register shows the whole practice (RGPD-01, RGPD-02, RGPD-04): once it holds entries it
  decides; an empty register leaves the question to decide;
- the register shows part of it (RGPD-03: whether a DPO is needed; CPS-04: knowing how to
  declare a card before it is lost; DES-01: every device that left is recorded; CTR-01: the
  contract as signed; CTR-02: the report after each session): the entries are judged and the
  question is still asked, the worse of the two counting (`CheckContext.with_answer`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from officine.catalogue.model import Verdict
from officine.checks.base import CheckContext, Finding, Outcome, check, finding, worst
from officine.dates import day
from officine.facts import FactStatus

FACT = "registers.state"
REVIEW_WITHIN = timedelta(days=365)  # a register read again at least once a year
QUESTIONNAIRE_WITHIN = timedelta(days=365)
HDS_SOON = timedelta(days=60)
# Methods the PGSSI-S canvas accepts for each medium (3 passes for a hard disk, 1 for flash,
# physical destruction for optical media and smart cards); anything else leaves data readable.
WEAK_METHODS = ("suppression_simple", "formatage_complet")
STRONG_FOR = {
    "disque_dur": ("ecrasement_3_passes", "demagnetisation", "destruction_physique", "effacement_securise"),
    "ordinateur": ("ecrasement_3_passes", "destruction_physique", "effacement_securise", "demagnetisation"),
    "ssd": ("effacement_securise", "ecrasement_1_passe", "destruction_physique"),
    "cle_usb": ("ecrasement_1_passe", "effacement_securise", "destruction_physique"),
    "cd_dvd": ("destruction_physique",),
    "carte_a_puce": ("destruction_physique",),
}


def _state(ctx: CheckContext) -> dict[str, Any] | None:
    fact = ctx.optional(FACT)
    if fact is None or fact.status is not FactStatus.observed:
        return None
    value: dict[str, Any] = fact.value
    return value


def _now(state: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(state["now"])


def _day(value: str | None) -> str:
    return day(value) if value else "?"


def _empty(ctx: CheckContext, reason: str) -> Outcome:
    """Nothing recorded: the answer decides, and the evidence says the register is empty."""
    decided = ctx.answer_or_needs()
    return Outcome(decided.verdict, reason, decided.values, observed=Verdict.not_applicable)


def _with_question(ctx: CheckContext, findings: list[Finding]) -> Outcome:
    return ctx.with_answer(worst(findings))


@check(
    "RGPD-01",
    reasons=("register_empty", "entry_reviewed", "entry_never_reviewed", "entry_review_old", "register_not_reviewed"),
    scope="site",
)
def processing_register(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    items = state["traitements"] if state else []
    if state is None or not items:
        return _empty(ctx, "register_empty")
    now = _now(state)
    findings = []
    for item in items:
        at = item["reviewed_at"]
        if at is None:
            findings.append(finding(Verdict.warn, "entry_never_reviewed", item["label"], entry=item["label"]))
        elif datetime.fromisoformat(at) < now - REVIEW_WITHIN:
            findings.append(
                finding(Verdict.warn, "entry_review_old", item["label"], entry=item["label"], date=_day(at))
            )
        else:
            findings.append(
                finding(Verdict.passed, "entry_reviewed", item["label"], entry=item["label"], date=_day(at))
            )
    if not any(f.reason == "entry_reviewed" for f in findings):
        head = finding(Verdict.fail, "register_not_reviewed", None, count=len(items))
        findings.insert(0, head)
    return worst(findings)


@check("RGPD-02", reasons=("register_empty", "retention_set", "retention_missing", "retention_proposed"), scope="site")
def retention(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    items = state["traitements"] if state else []
    if state is None or not items:
        return _empty(ctx, "register_empty")
    findings = []
    for i in items:
        label = i["label"]
        if not i["conservation"]:
            findings.append(finding(Verdict.fail, "retention_missing", label, entry=label))
        elif i["reviewed_at"] is None:  # a period officine-cyber proposed is not one the pharmacy fixed
            findings.append(finding(Verdict.warn, "retention_proposed", label, entry=label))
        else:
            findings.append(finding(Verdict.passed, "retention_set", label, entry=label))
    return worst(findings)


@check("RGPD-03", reasons=("register_empty", "aipd_decided", "aipd_to_check"), scope="site")
def impact_assessment(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    items = [i for i in (state["traitements"] if state else []) if i["health"]]
    if not items:
        return _empty(ctx, "register_empty")
    findings = [
        finding(Verdict.warn, "aipd_to_check", i["label"], entry=i["label"])
        if i["aipd"] == "a_verifier"
        else finding(
            Verdict.passed, "aipd_decided", i["label"], entry=i["label"], aipd=i["aipd"].replace("_", " ").capitalize()
        )
        for i in items
    ]
    return _with_question(ctx, findings)  # whether a DPO must be named is not in the register


@check(
    "RGPD-04",
    reasons=("register_altered", "no_breach", "breach_decided", "breach_pending", "breach_late"),
    scope="site",
)
def breach_register(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if state is not None and state["violations"]["altered"]:
        return Outcome(Verdict.fail, "register_altered", {"problem": state["violations"]["altered"]})
    items = state["violations"]["items"] if state else []
    if not items:
        return _empty(ctx, "no_breach")
    findings = []
    for b in items:
        if b["decision"] != "en_attente":
            word = "notifiée à la CNIL" if b["decision"] == "notifiee" else "non notifiée, raison notée"
            findings.append(finding(Verdict.passed, "breach_decided", b["label"], entry=b["label"], decision=word))
        elif b["late"]:
            findings.append(
                finding(Verdict.fail, "breach_late", b["label"], entry=b["label"], deadline=_day(b["deadline"]))
            )
        else:
            findings.append(
                finding(Verdict.warn, "breach_pending", b["label"], entry=b["label"], deadline=_day(b["deadline"]))
            )
    return worst(findings)


@check(
    "CPS-04",
    reasons=("no_card", "card_active", "card_expired", "card_declared", "card_not_declared"),
    scope="site",
)
def cards(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    items = state["cartes"] if state else []
    if state is None or not items:
        return _empty(ctx, "no_card")
    today = _now(state).date()
    findings = []
    for c in items:
        if c["etat"] in ("perdue", "volee"):
            what = "perdue" if c["etat"] == "perdue" else "volée"
            if c["opposition_le"]:
                findings.append(
                    finding(
                        Verdict.passed,
                        "card_declared",
                        c["label"],
                        entry=c["label"],
                        what=what,
                        event=_day(c["date_evenement"]),
                        date=_day(c["opposition_le"]),
                        to=c["declaree_a"],
                    )
                )
            else:
                findings.append(
                    finding(
                        Verdict.fail,
                        "card_not_declared",
                        c["label"],
                        entry=c["label"],
                        what=what,
                        event=_day(c["date_evenement"]),
                    )
                )
        elif c["etat"] == "active" and c["expiration"] and date.fromisoformat(c["expiration"]) < today:
            findings.append(
                finding(Verdict.warn, "card_expired", c["label"], entry=c["label"], date=_day(c["expiration"]))
            )
        else:
            findings.append(finding(Verdict.passed, "card_active", c["label"], entry=c["label"]))
    return _with_question(ctx, findings)  # knowing how to declare before a loss is not in the register


@check("DES-01", reasons=("no_destruction", "destruction_ok", "destruction_weak", "destruction_unusual"), scope="site")
def destructions(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    items = state["destructions"] if state else []
    if state is None or not items:
        return _empty(ctx, "no_destruction")
    findings = []
    for d in items:
        values = {"entry": d["label"], "method": d["methode"].replace("_", " "), "date": _day(d["date"])}
        if d["methode"] in WEAK_METHODS:
            findings.append(finding(Verdict.fail, "destruction_weak", d["label"], **values))
        elif d["support"] in STRONG_FOR and d["methode"] not in STRONG_FOR[d["support"]]:
            findings.append(finding(Verdict.warn, "destruction_unusual", d["label"], **values))
        else:
            findings.append(finding(Verdict.passed, "destruction_ok", d["label"], **values))
    return _with_question(ctx, findings)  # every device that left is recorded: only a person knows


def _providers(state: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list(state["prestataires"]) if state else []


@check(
    "CTR-01",
    reasons=(
        "no_provider",
        "contract_ok",
        "no_art28",
        "clauses_missing",
        "questionnaire_missing",
        "questionnaire_old",
    ),
    scope="site",
)
def contracts(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    items = _providers(state)
    if state is None or not items:
        return _empty(ctx, "no_provider")
    now = _now(state)
    findings = []
    for p in items:
        label = p["label"]
        if not p["clause_art28"]:
            findings.append(finding(Verdict.fail, "no_art28", label, entry=label))
            continue
        if len(p["clauses"]) < 8:
            findings.append(finding(Verdict.warn, "clauses_missing", label, entry=label, count=len(p["clauses"])))
            continue
        if p["acces_systemes"]:
            signed = p["questionnaire"]
            if signed is None:
                findings.append(finding(Verdict.fail, "questionnaire_missing", label, entry=label))
                continue
            if datetime.fromisoformat(signed) < now - QUESTIONNAIRE_WITHIN:
                findings.append(finding(Verdict.warn, "questionnaire_old", label, entry=label, date=_day(signed)))
                continue
        findings.append(finding(Verdict.passed, "contract_ok", label, entry=label))
    return _with_question(ctx, findings)  # that the contract says what the register says


@check("CTR-02", reasons=("no_remote_tool", "session_authorised", "permanent_access"), scope="site")
def remote_maintenance(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    items = [p for p in _providers(state) if p["telemaintenance"]]
    if not items:
        return _empty(ctx, "no_remote_tool")
    findings = [
        finding(Verdict.passed, "session_authorised", p["label"], entry=p["label"], tool=p["telemaintenance"])
        if p["autorisation_session"] == "chaque_session"
        else finding(Verdict.fail, "permanent_access", p["label"], entry=p["label"], tool=p["telemaintenance"])
        for p in items
    ]
    return _with_question(ctx, findings)  # the report after each session is not in the register


def hosting_findings(ctx: CheckContext) -> list[Finding]:
    """SAV-06 for the providers recorded as hosting health data (used by the backups' check)."""
    state = _state(ctx)
    if state is None:
        return []
    today = _now(state).date()
    found = []
    for p in _providers(state):
        if not p["donnees_de_sante"]:
            continue
        label, where = p["label"], p["hebergement"]
        if not p["certificat_hds"]:
            found.append(finding(Verdict.fail, "provider_not_hds", label, entry=label, where=where))
        elif p["hds_expiration"] is None:
            found.append(
                finding(Verdict.warn, "provider_hds_no_date", label, entry=label, reference=p["certificat_hds"])
            )
        else:
            expires = date.fromisoformat(p["hds_expiration"])
            values = {"entry": label, "reference": p["certificat_hds"], "date": day(expires)}
            if expires < today:
                found.append(finding(Verdict.fail, "provider_hds_expired", label, **values))
            elif expires < today + HDS_SOON:
                found.append(finding(Verdict.warn, "provider_hds_soon", label, **values))
            else:
                found.append(finding(Verdict.passed, "provider_hds_ok", label, **values))
    return found
