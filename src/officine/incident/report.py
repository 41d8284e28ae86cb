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
from officine.incident.journal import verify
from officine.incident.runbook import CONTACT_LABELS, FIXED_CONTACTS, Incident, load_contacts, steps

ACTIONS_FR = {
    "incident_opened": "Incident ouvert",
    "step_done": "Étape faite",
    "step_skipped": "Étape passée",
    "isolated": "Poste isolé du réseau",
    "reconnected": "Réseau rétabli",
    "evidence_collected": "Preuves collectées",
    "breach_recorded": "Violation inscrite au registre",
    "note": "Note",
    "incident_closed": "Incident clos",
}


def _time(value: str) -> str:
    return f"{datetime.fromisoformat(value).astimezone(PARIS):%d/%m/%Y %H:%M:%S}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _describe(entry: dict[str, Any]) -> str:
    details = entry.get("details") or {}
    step = {s.id: s.title for s in steps()}.get(str(details.get("step")), "")
    parts = [p for p in (step, details.get("note"), details.get("summary"), details.get("result")) if p]
    return " — ".join(str(p) for p in parts)


def build(incident: Incident, out: Path, pharmacy: str = "Pharmacie") -> Path:
    styles = getSampleStyleSheet()
    check = verify(incident.journal.path)
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
    for e in check.entries:
        rows.append(
            [
                _time(e["at"]),
                Paragraph(_escape(e["actor"]), styles["BodyText"]),
                ACTIONS_FR.get(e["action"], e["action"]),
                Paragraph(_escape(_describe(e)), styles["BodyText"]),
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
    evidence = [e for e in check.entries if e["action"] == "evidence_collected"]
    if not evidence:
        story.append(Paragraph("Aucune collecte de preuves enregistrée.", styles["BodyText"]))
    for e in evidence:
        d = e["details"]
        story.append(
            Paragraph(
                f"{_time(e['at'])} : {_escape(str(d.get('manifest')))} — empreinte SHA-256 du "
                f"manifeste {d.get('manifest_sha256')}",
                styles["BodyText"],
            )
        )
    story += [Spacer(1, 0.4 * cm), Paragraph("Contacts", styles["Heading2"])]
    contacts = load_contacts()
    for role, label in CONTACT_LABELS.items():
        c = contacts.get(role, {})
        story.append(
            Paragraph(
                f"{label} : {_escape(c.get('nom', 'non renseigné'))} {_escape(c.get('telephone', ''))}",
                styles["BodyText"],
            )
        )
    for label, value in FIXED_CONTACTS.items():
        story.append(Paragraph(f"{label} : {value}", styles["BodyText"]))
    done = {e["details"].get("step") for e in check.entries if e["action"] == "step_done"}
    open_points = [s.title for s in steps() if s.id not in done]
    story += [Spacer(1, 0.4 * cm), Paragraph("Points encore ouverts", styles["Heading2"])]
    story += [Paragraph(f"• {_escape(t)}", styles["BodyText"]) for t in open_points] or [
        Paragraph("Toutes les étapes ont été faites.", styles["BodyText"])
    ]
    story += [
        Spacer(1, 0.4 * cm),
        Paragraph("Intégrité du journal", styles["Heading2"]),
        Paragraph(
            ("Journal intact" if check.ok else "ATTENTION : " + "; ".join(p.message for p in check.problems))
            + f". Dernière empreinte : {check.last_hash}",
            styles["BodyText"],
        ),
    ]
    doc.build(story)
    return out
