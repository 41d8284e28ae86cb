"""The analyser: one message in, a verdict with every reason and what to do next out.

Observation (parse), judgement (sender, auth, links, attachments, wording: each returns
findings) and words (reasons.yaml) stay apart. The score is the sum of the weights of the
distinct reasons found; the thresholds are data too. Nothing is opened, run or fetched."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from officine.errors import UserError
from officine.mail import MAX_MESSAGE_BYTES
from officine.mail.attachments import check_attachments
from officine.mail.auth import check_auth, trusted_servers
from officine.mail.findings import Finding, quote
from officine.mail.knowledge import Knowledge, KnownOrg, Verdict, knowledge
from officine.mail.links import Html, check_links, read_html
from officine.mail.parse import Mail, parse
from officine.mail.sender import check_sender
from officine.mail.wording import check_wording, message_text, password_given
from officine.userfiles import read_input

_ARCHIVE_REASONS = {"pj_archive_chiffree", "pj_archive_non_inspectee"}


@dataclass(frozen=True)
class MailSettings:
    """What the pharmacy configured: the name (authserv-id) of its receiving server, and its
    own known senders (suppliers, bank, software vendors)."""

    trusted_server: str | None = None
    known: tuple[KnownOrg, ...] = ()


@dataclass
class Reason:
    code: str
    weight: int
    theme: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "poids": self.weight, "theme": self.theme, "texte": self.text}


@dataclass
class Analysis:
    verdict: Verdict
    title: str
    summary: str
    score: int
    reasons: list[Reason]
    advice: list[str]
    trusted_server: str | None
    sender: str
    subject: str
    attachments: list[str]
    links: int
    partial: bool
    examined: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "titre": self.title,
            "resume": self.summary,
            "score": self.score,
            "raisons": [r.to_json() for r in self.reasons],
            "conseils": self.advice,
            "serveur_de_confiance": self.trusted_server,
            "message": {
                "expediteur": self.sender,
                "objet": self.subject,
                "pieces_jointes": self.attachments,
                "liens": self.links,
            },
            "analyse_partielle": self.partial,
            "examine": self.examined,
        }


def _distinct(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    out = []
    for f in findings:
        key = (f.code, tuple(sorted(f.fields.items())))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def judge(mail: Mail, kn: Knowledge, settings: MailSettings) -> Analysis:
    htmls: list[Html] = [read_html(h) for h in mail.htmls]
    text = message_text(mail, [h.text for h in htmls])
    sender_findings, presented = check_sender(mail, kn)
    findings = [*sender_findings, *check_auth(mail, settings.trusted_server)]
    findings += check_links(mail, kn, presented, htmls)
    attachment_findings = check_attachments(mail, kn)
    findings += attachment_findings
    if any(f.code in _ARCHIVE_REASONS for f in attachment_findings) or any(
        f.code == "pj_office_chiffre" for f in attachment_findings
    ):
        given = password_given(kn, text)
        if given:
            findings.append(Finding.of("pj_mot_de_passe_dans_message", extrait=given))
    findings += check_wording(mail, kn, text)
    if mail.defects:
        findings.append(Finding.of("message_malforme", defauts=", ".join(mail.defects[:5])))
    for cause in dict.fromkeys(mail.partial):
        findings.append(Finding.of("analyse_partielle", cause=cause + "."))
    findings = _distinct(findings)
    score = sum(kn.weight(code) for code in {f.code for f in findings})
    thresholds = kn.reasons.seuils
    verdict: Verdict = (
        "dangereux" if score >= thresholds.dangereux else "suspect" if score >= thresholds.suspect else "rien_d_anormal"
    )
    reasons = [
        Reason(
            f.code, kn.weight(f.code), kn.reasons.themes[kn.reasons.raisons[f.code].theme], kn.text(f.code, f.fields)
        )
        for f in findings
    ]
    reasons.sort(key=lambda r: -r.weight)  # stable: within a weight, the order they were found
    codes = {f.code for f in findings}
    advice = [
        a.texte
        for a in kn.reasons.conseils.values()
        if (not a.quand or verdict in a.quand) and (not a.si or codes & set(a.si))
    ]
    link_count = sum(len(h.links) for h in htmls)
    examined = [
        "l'expéditeur et les adresses de réponse",
        "l'authentification (SPF, DKIM, DMARC)",
        f"{link_count} lien(s) du texte mis en forme" if htmls else "les adresses du texte",
        f"{len(mail.attachments)} pièce(s) jointe(s)",
        "les formulations du texte",
    ]
    verdict_text = kn.reasons.verdicts[verdict]
    sender = mail.sender.address if mail.sender else mail.sender_raw
    return Analysis(
        verdict=verdict,
        title=verdict_text.titre,
        summary=verdict_text.resume,
        score=score,
        reasons=reasons,
        advice=advice,
        trusted_server=", ".join(trusted_servers(settings.trusted_server)) or None,
        sender=quote(sender),
        subject=quote(mail.subject),
        attachments=[quote(a.name) for a in mail.attachments[:50]],
        links=link_count,
        partial=bool(mail.partial),
        examined=examined,
    )


def analyse_bytes(data: bytes, settings: MailSettings | None = None) -> Analysis:
    settings = settings or MailSettings()
    if len(data) > MAX_MESSAGE_BYTES:
        raise UserError(
            f"Le message est trop gros ({len(data) // (1024 * 1024)} Mo ; "
            f"{MAX_MESSAGE_BYTES // (1024 * 1024)} Mo au plus)."
        )
    kn = knowledge().with_orgs(settings.known) if settings.known else knowledge()
    return judge(parse(data), kn, settings)


def analyse_file(path: Path, settings: MailSettings | None = None) -> Analysis:
    data = read_input(path, MAX_MESSAGE_BYTES, "Le message")
    return analyse_bytes(data, settings)
