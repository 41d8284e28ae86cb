"""The "bilan de sécurité": the state of each practice, the open actions with their owners and
the evidence, as JSON and as a PDF an insurer or an IT provider can read."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from officine.catalogue.loader import Messages
from officine.dates import day, moment
from officine.report.safe import terminal_text
from officine.services import story

# The tile of a practice: the worst thing in it decides.
STATE_ORDER = ("non_conforme", "a_renseigner", "a_ameliorer", "conforme")
OWNERS = {"pharmacien": "Pharmacien titulaire", "prestataire": "Prestataire informatique"}
EVIDENCE_SHOWN = 3


def practice_state(measures: list[dict[str, Any]]) -> str:
    """conforme / à améliorer / non conforme / à renseigner, from the measures' verdicts.
    Measures set aside as accepted exceptions do not count; `unknown` is never conforme."""
    verdicts = {m["verdict"] for m in measures if not story.excepted(m)}
    if "fail" in verdicts:
        return "non_conforme"
    if "needs_answer" in verdicts:
        return "a_renseigner"
    if verdicts & {"warn", "unknown"}:
        return "a_ameliorer"
    # Only pass and not_applicable are left: both were observed or answered, nothing to do.
    return "conforme"


def shown_score(score: int | None, measures: list[dict[str, Any]]) -> int | None:
    """No score while nothing was answered or observed yet: a "0" would read as a failure."""
    waiting = all(m["verdict"] in ("needs_answer", "not_applicable") or story.excepted(m) for m in measures)
    return None if waiting else score


def owner(measure: dict[str, Any], questions: dict[str, str], contacts: dict[str, Any]) -> str:
    """Who acts: the audience of the measure's question, else the IT provider for machine checks."""
    role = questions.get(measure["id"]) or ("prestataire" if measure["verification"] != "question" else "pharmacien")
    label = OWNERS[role]
    name = (contacts.get(role) or {}).get("name") if role == "prestataire" else None
    return f"{label} ({name})" if name else label


def bilan_data(
    pharmacy: dict[str, Any],
    audit: dict[str, Any],
    audit_id: int,
    audited_at: datetime,
    audiences: dict[str, str],
    contacts: dict[str, Any],
    questions: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The report's sections, the same for the page, the JSON and the PDF: the actions first,
    then the questions to answer (counted apart), exceptions, conforming measures."""
    measures = audit.get("measures", [])
    practices = []
    counts = story.practice_counts(audit)
    for p in audit.get("practices", []):
        mine = [m for m in measures if m["practice"] == p["id"]]
        practices.append(
            {
                "id": p["id"],
                "title": p["title"],
                "score": shown_score(p["score"], mine),
                "state": practice_state(mine),
                "counts": counts[p["id"]].by_verdict,
                "excepted": counts[p["id"]].excepted,
            }
        )
    sections = story.sections(audit)
    return {
        "format": "officine-cyber/bilan",
        "version": 2,
        "pharmacy": pharmacy,
        "audit_id": audit_id,
        "audited_at": audited_at.isoformat(),
        "evaluated_on": audit.get("evaluated_on"),
        "catalogue_version": audit.get("catalogue_version"),
        "score": audit.get("score"),
        "hosts": [
            {k: h.get(k) for k in ("hostname", "platform", "collected_at", "privileged")}
            for h in audit.get("hosts", [])
        ],
        "practices": practices,
        "actions": [_action(m, audiences, contacts) for m in sections.actions],
        "questions": [
            {
                "measure": m["id"],
                "practice": m["practice"],
                "title": m["title"],
                "severity": m["severity"],
                "owner": owner(m, audiences, contacts),
                "questions": (questions or {}).get(m["id"], []),
            }
            for m in sections.questions
        ],
        "exceptions": [{"measure": m["id"], "title": m["title"], **m["exception"]} for m in sections.excepted],
        "conforming": [{"measure": m["id"], "title": m["title"]} for m in sections.conforming],
    }


def _action(m: dict[str, Any], audiences: dict[str, str], contacts: dict[str, Any]) -> dict[str, Any]:
    findings = [_evidence_line(e) for e in story.findings_to_act_on(m)]
    shown, more = story.shorten(findings, EVIDENCE_SHOWN)
    return {
        "measure": m["id"],
        "practice": m["practice"],
        "title": m["title"],
        "severity": m["severity"],
        "verdict": m["verdict"],
        "action": m["action"],
        "owner": owner(m, audiences, contacts),
        "evidence": shown,
        "evidence_more": more,  # "… et N autres constats"
    }


def _evidence_line(e: dict[str, Any]) -> str:
    return f"{e['host']} : {e['text']}" if e.get("host") else str(e["text"])


# Texts from a snapshot or typed by a person are cut to these lengths in the PDF: a table row
# taller than a page stops reportlab for good (a 3,000-character hostname did).
SHORT_TEXT = 120  # a hostname, a system, a name
LONG_TEXT = 600  # an action, a piece of evidence, a justification


def _esc(text: Any, limit: int = LONG_TEXT) -> str:
    """A text for a reportlab Paragraph: bounded, then escaped. Paragraph styles split words
    longer than their column (splitLongWords), so what is left always wraps. Controls and bidi
    overrides from a snapshot are shown as escapes, as in the terminal and on the pages."""
    value = terminal_text(" ".join(str(text).split()), one_line=True)
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _date(value: str | None) -> str:
    try:
        return moment(value)
    except (TypeError, ValueError):  # not a date: said as it is, bounded like any text
        return _esc(value, SHORT_TEXT)


def _day(value: str | None) -> str:
    try:
        return day(value)
    except (TypeError, ValueError):
        return _esc(value, SHORT_TEXT)


def bilan_pdf(data: dict[str, Any], messages: Messages, states: dict[str, str]) -> bytes:
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8.5, leading=11)
    cell = styles["BodyText"].clone("cell", fontSize=9, leading=11.5)
    pharmacy = data["pharmacy"] or {}
    name = _esc(pharmacy.get("name") or "Pharmacie", SHORT_TEXT)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=f"Bilan de sécurité — {pharmacy.get('name') or 'Pharmacie'}"[:200],
        author="officine-cyber",
        leftMargin=1.7 * cm,
        rightMargin=1.7 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
    )
    score = data["score"]
    story: list[Any] = [
        Paragraph(f"Bilan de sécurité — {name}", styles["Title"]),
        Paragraph(
            " · ".join(
                _esc(x)
                for x in (
                    pharmacy.get("address"),
                    f"FINESS {pharmacy['finess']}" if pharmacy.get("finess") else None,  # 9 digits (validated)
                )
                if x
            )
            or "&nbsp;",
            styles["BodyText"],
        ),
        Paragraph(
            f"Audit n° {data['audit_id']} du {_date(data['audited_at'])} — "
            f"bilan édité le {day(datetime.now(UTC))} — catalogue {_esc(data['catalogue_version'], SHORT_TEXT)}",
            small,
        ),
        Spacer(1, 0.3 * cm),
        Paragraph(f"Note globale : <b>{'—' if score is None else score} / 100</b>", styles["Heading2"]),
        Paragraph(
            "La note ne compte que ce qui a été observé ou déclaré : ce qui n'a pas pu être vérifié "
            "ne rapporte aucun point.",
            small,
        ),
        Paragraph("Postes audités", styles["Heading3"]),
    ]
    hosts = [[Paragraph(f"<b>{h}</b>", cell) for h in ("Poste", "Système", "Observé le")]] + [
        [
            Paragraph(_esc(h["hostname"], SHORT_TEXT), cell),
            Paragraph(_esc(h["platform"], SHORT_TEXT), cell),
            Paragraph(_date(h["collected_at"]), cell),
        ]
        for h in data["hosts"]
    ]
    story += [_table(hosts, [6 * cm, 4 * cm, 7.5 * cm]) if data["hosts"] else Paragraph("Aucun poste audité.", cell)]
    story += [Paragraph("Note par pratique", styles["Heading3"])]
    rows = [[Paragraph(f"<b>{h}</b>", cell) for h in ("Pratique", "Note", "État")]] + [
        [
            Paragraph(_esc(p["title"], SHORT_TEXT), cell),
            Paragraph("—" if p["score"] is None else f"{p['score']} / 100", cell),
            Paragraph(_esc(states.get(p["state"], p["state"])), cell),
        ]
        for p in data["practices"]
    ]
    story.append(_table(rows, [10 * cm, 2.5 * cm, 5 * cm]))
    story += [Paragraph(f"Actions à mener ({len(data['actions'])})", styles["Heading3"])]
    if not data["actions"]:
        story.append(Paragraph("Aucune action à mener.", cell))
    for i, a in enumerate(data["actions"], 1):
        block = [
            Paragraph(
                f"<b>{i}. {_esc(a['title'])}</b> ({_esc(a['measure'], SHORT_TEXT)}, "
                f"{_esc(messages.verdicts.get(a['verdict'], a['verdict']))})",
                cell,
            ),
            Paragraph(f"À faire : {_esc(a['action'])} — <i>responsable : {_esc(a['owner'], SHORT_TEXT)}</i>", cell),
        ]
        block += [Paragraph(f"Constat : {_esc(line)}", small) for line in a["evidence"]]
        if a.get("evidence_more"):
            n = a["evidence_more"]
            block.append(Paragraph(f"… et {n} autre{'s' if n > 1 else ''} constat{'s' if n > 1 else ''}.", small))
        story.append(KeepTogether([*block, Spacer(1, 0.15 * cm)]))
    if data.get("questions"):
        # Asked once here, not repeated under every measure: the answers decide these measures.
        story += [
            Paragraph(f"Questions à répondre ({len(data['questions'])})", styles["Heading3"]),
            Paragraph(
                "Ces mesures ne peuvent pas être vérifiées par un ordinateur : elles ne rapportent aucun point "
                "tant que la question n'a pas de réponse (tableau de bord, page de chaque pratique).",
                small,
            ),
        ]
        for q in data["questions"]:
            asked = " ".join(_esc(t) for t in q["questions"])
            story.append(
                Paragraph(
                    f"<b>{_esc(q['title'])}</b> ({_esc(q['measure'], SHORT_TEXT)}) — "
                    f"<i>{_esc(q['owner'], SHORT_TEXT)}</i>" + (f" : {asked}" if asked else ""),
                    cell,
                )
            )
    if data["exceptions"]:
        story += [Paragraph("Exceptions acceptées", styles["Heading3"])]
        for e in data["exceptions"]:
            until = f" jusqu'au {_day(e['until'])}" if e.get("until") else " sans date de fin"
            expired = " — <b>EXPIRÉE</b>" if e.get("expired") else ""
            story.append(
                Paragraph(
                    f"{_esc(e['measure'], SHORT_TEXT)} {_esc(e['title'])} : « {_esc(e['justification'])} » — "
                    f"décidée par {_esc(e['by'], SHORT_TEXT)} le {_day(e['date'])}{until}{expired}",
                    cell,
                )
            )
    story += [
        Paragraph(f"Mesures conformes ({len(data['conforming'])})", styles["Heading3"]),
        Paragraph(
            ", ".join(f"{_esc(c['measure'], SHORT_TEXT)} {_esc(c['title'], SHORT_TEXT)}" for c in data["conforming"])
            or "Aucune.",
            small,
        ),
        Spacer(1, 0.6 * cm),
        KeepTogether(
            [
                Paragraph("Signatures", styles["Heading3"]),
                _table(
                    [
                        [
                            Paragraph("<b>Pharmacien titulaire</b>", cell),
                            Paragraph("<b>Prestataire informatique</b>", cell),
                        ],
                        [Paragraph("Nom :<br/>Date :<br/>Signature :<br/><br/><br/>", cell)] * 2,
                    ],
                    [8.75 * cm, 8.75 * cm],
                ),
            ]
        ),
    ]
    doc.build(story)
    return buf.getvalue()


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table
