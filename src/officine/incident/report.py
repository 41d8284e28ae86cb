"""The incident report (PDF) for the IT provider, the insurer and the police."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from officine.incident.breach import PARIS
from officine.incident.chain import Entry
from officine.incident.contacts import FIXED, ROLES, Contact, load_contacts
from officine.incident.runbook import Incident, steps
from officine.incident.verification import Verification

ACTIONS_FR = {
    "incident_opened": "Incident ouvert",
    "step_done": "Étape faite",
    "step_skipped": "Étape passée",
    "isolated": "Poste isolé du réseau",
    "reconnected": "Réseau rétabli",
    "evidence_collected": "Preuves collectées",
    "breach_recorded": "Violation inscrite au registre",
    "evidence_failed": "Collecte de preuves impossible",
    "interrupted_write": "Écriture interrompue",
    "note": "Note",
    "incident_closed": "Incident clos",
}
ANSWERS_FR = {"oui": "réponse : oui", "non": "réponse : non"}
STATUS_FR = {"intact": "Journal intact", "unproven": "Journal NON PROUVÉ", "altered": "Journal ALTÉRÉ"}


def _escape(text: str) -> str:
    """Text for a reportlab paragraph: markup escaped, control characters dropped."""
    cleaned = "".join(c for c in text if c.isprintable() or c in " ")
    return cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def describe(entry: Entry) -> str:
    """One line of the chronology, in French."""
    step = {s.id: s.title for s in steps()}.get(entry.detail("step"), "")
    answer = ANSWERS_FR.get(entry.detail("answer"), "")
    parts = [step, answer, *(entry.detail(k) for k in ("note", "summary", "result"))]
    return " — ".join(p for p in parts if p)


def integrity_text(check: Verification) -> str:
    """What the verification found, as the report prints it."""
    text = STATUS_FR[check.status]
    if check.findings:
        text += " : " + " ; ".join(p.message for p in check.findings)
    if check.notices:
        text += ". À noter : " + " ; ".join(p.message for p in check.notices)
    return text + "."


def build(incident: Incident, out: Path, pharmacy: str = "Pharmacie") -> Path:
    styles = getSampleStyleSheet()
    check = incident.verify()
    timeline = incident.timeline()
    receipt = incident.receipt()
    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        title=f"Rapport d'incident {incident.id}",
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
    )
    story: list[Any] = [
        Paragraph(f"Rapport d'incident — {_escape(pharmacy)}", styles["Title"]),
        Paragraph(
            f"Incident {incident.id}, rapport produit le {datetime.now(UTC).astimezone(PARIS):%d/%m/%Y %H:%M}",
            styles["Normal"],
        ),
        Spacer(1, 0.4 * cm),
        Paragraph("Chronologie", styles["Heading2"]),
    ]
    rows = [["Heure (Paris)", "Qui", "Quoi", "Détail"]]
    for e in timeline:
        rows.append(
            [
                e.when(),
                Paragraph(_escape(e.actor), styles["BodyText"]),
                Paragraph(_escape(ACTIONS_FR.get(e.action, e.action)), styles["BodyText"]),
                Paragraph(_escape(describe(e)), styles["BodyText"]),
            ]
        )
    table = Table(rows, colWidths=[3.3 * cm, 3 * cm, 4 * cm, 7 * cm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story += [table, Spacer(1, 0.4 * cm), Paragraph("Preuves collectées", styles["Heading2"])]
    evidence = [e for e in timeline if e.action == "evidence_collected"]
    if not evidence:
        story.append(Paragraph("Aucune collecte de preuves enregistrée.", styles["BodyText"]))
    for e in evidence:
        state = "" if e.details.get("complete", True) is True else " (INCOMPLÈTE : voir la chronologie)"
        story.append(
            Paragraph(
                _escape(
                    f"{e.when()} : {e.detail('manifest')} — empreinte SHA-256 du manifeste "
                    f"{e.detail('manifest_sha256')}{state}"
                ),
                styles["BodyText"],
            )
        )
    story += [Spacer(1, 0.4 * cm), Paragraph("Contacts", styles["Heading2"])]
    contacts = load_contacts()
    for role, label in ROLES.items():
        text = contacts.get(role, Contact()).describe() or "non renseigné"
        story.append(Paragraph(f"{label} : {_escape(text)}", styles["BodyText"]))
    for label, value in FIXED.items():
        story.append(Paragraph(f"{label} : {value}", styles["BodyText"]))
    done = set(incident.done_steps())
    open_points = [s.title for s in steps() if s.id not in done]
    story += [Spacer(1, 0.4 * cm), Paragraph("Points encore ouverts", styles["Heading2"])]
    story += [Paragraph(f"• {_escape(t)}", styles["BodyText"]) for t in open_points] or [
        Paragraph("Toutes les étapes ont été faites.", styles["BodyText"])
    ]
    story += [
        Spacer(1, 0.4 * cm),
        Paragraph("Intégrité du journal", styles["Heading2"]),
        Paragraph(_escape(integrity_text(check)), styles["BodyText"]),
        Paragraph(
            _escape(
                f"Reçu à conserver hors de ce poste : {receipt}"
                if receipt
                else "Pas de reçu : le journal ne contient aucune entrée lisible."
            ),
            styles["BodyText"],
        ),
        Paragraph(
            "Ce reçu (incident, numéro de la dernière entrée, empreinte SHA-256) permet de vérifier plus tard, "
            "avec « officine incident verify --recu », que le journal n'a été ni coupé ni réécrit depuis ce "
            "rapport, même par quelqu'un qui aurait accès à ce poste et à sa base de données.",
            styles["BodyText"],
        ),
    ]
    doc.build(story)
    return out
