"""Exports a CNIL inspector or an insurer can open: a PDF of any register (reportlab), and
spreadsheets (ODS with odfpy, XLSX with openpyxl) — the CNIL's own model of the processing
register is a spreadsheet. JSON for moving a register to another officine-cyber (`importer`).

Every cell is text as people read it (`officine.registers.table`), typed as a string in the
spreadsheet: a value starting with "=" stays the text that was typed, never a formula run on the
reader's machine."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

from officine.dates import moment
from officine.errors import UserError
from officine.registers import schemas
from officine.registers.book import RegisterBook
from officine.registers.table import Table, table
from officine.store import Store

FORMATS = ("pdf", "ods", "xlsx", "json")


def export(store: Store, register: str, fmt: str, pharmacy: str = "") -> bytes:
    if fmt not in FORMATS:
        raise UserError(f"Format inconnu : « {fmt[:20]} ». Formats : {', '.join(FORMATS)}.")
    if fmt == "json":
        return to_json(store, register)
    data = table(store, register)
    if fmt == "pdf":
        return to_pdf(data, pharmacy)
    return to_ods(data) if fmt == "ods" else to_xlsx(data)


def to_json(store: Store, register: str) -> bytes:
    if register == "violations":
        raise UserError(
            "Le registre des violations s'exporte en PDF, ODS ou XLSX ; sa copie fidèle est son journal chaîné."
        )
    entries = RegisterBook(store).entries(register)
    doc: dict[str, Any] = {"registre": register, "format": 1, "entrees": [e.data for e in entries]}
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def to_pdf(data: Table, pharmacy: str = "") -> bytes:
    from reportlab.lib import colors  # noqa: PLC0415 - heavy, only for this export
    from reportlab.lib.pagesizes import A4, landscape  # noqa: PLC0415
    from reportlab.lib.styles import getSampleStyleSheet  # noqa: PLC0415
    from reportlab.lib.units import cm  # noqa: PLC0415
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # noqa: PLC0415

    def esc(text: str) -> str:
        return " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=7, leading=8.5, splitLongWords=True)
    buf = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(
        buf, pagesize=page, title=data.title, author="officine-cyber", leftMargin=cm, rightMargin=cm, topMargin=cm
    )
    story: list[Any] = [
        Paragraph(esc(f"{data.title}{' — ' + pharmacy if pharmacy else ''}"), styles["Title"]),
        Paragraph(
            esc(f"Édité le {moment(datetime.now(UTC))} par officine-cyber — {len(data.rows)} entrée(s)."),
            styles["BodyText"],
        ),
        Spacer(1, 0.3 * cm),
    ]
    if not data.rows:
        story.append(Paragraph("Aucune entrée.", styles["BodyText"]))
    else:
        width = (page[0] - 2 * cm) / len(data.columns)
        rows = [[Paragraph(f"<b>{esc(c)}</b>", cell) for c in data.columns]]
        rows += [[Paragraph(esc(v), cell) for v in row] for row in data.rows]
        grid = Table(rows, colWidths=[width] * len(data.columns), repeatRows=1)
        grid.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(grid)
    doc.build(story)
    return buf.getvalue()


def to_ods(data: Table) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet  # noqa: PLC0415
    from odf.table import Table as OdsTable  # noqa: PLC0415
    from odf.table import TableCell, TableRow  # noqa: PLC0415
    from odf.text import P  # noqa: PLC0415

    document = OpenDocumentSpreadsheet()
    sheet = OdsTable(name=schemas.words()["registers"][data.register]["short"][:31])
    for values in [data.columns, *data.rows]:
        row = TableRow()
        for value in values:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            row.addElement(cell)
        sheet.addElement(row)
    document.spreadsheet.addElement(sheet)
    buf = io.BytesIO()
    document.write(buf)
    return buf.getvalue()


def to_xlsx(data: Table) -> bytes:
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    book = Workbook()
    sheet = book.active
    sheet.title = schemas.words()["registers"][data.register]["short"][:31]
    sheet.append(data.columns)
    for row in data.rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        for cell in column:
            cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[column[0].column_letter].width = 28
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def read_import(raw: bytes, register: str) -> list[dict[str, Any]]:
    """The entries of a JSON file made by `exporter` (or by hand): a list, or {"entrees": [...]}.
    Bad JSON or another register's file is refused in French."""
    if len(raw) > 5 * 1024 * 1024:
        raise UserError("Le fichier dépasse 5 Mo : rien n'a été importé.")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UserError(
            "Ce fichier n'est pas un JSON lisible (exportez-le avec « officine registre exporter »)."
        ) from exc
    if isinstance(doc, dict):
        if doc.get("registre") not in (None, register):
            raise UserError(
                f"Ce fichier est un export du registre « {str(doc.get('registre'))[:30]} », pas de « {register} »."
            )
        doc = doc.get("entrees")
    if not isinstance(doc, list) or not all(isinstance(x, dict) for x in doc):
        raise UserError("Le fichier doit contenir une liste d'entrées (objets JSON). Rien n'a été importé.")
    return doc
