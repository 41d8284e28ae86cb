"""The console's pages: the table of pharmacies, "which pharmacies have this problem", a
pharmacy's page (the dashboard's views over its own schema), enrolment tokens, revocation,
the PowerShell envelope upload, alerts, the console's log, the organisation's settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from officine.errors import UserError
from officine.fleet import agents, alerts, directory, ingest, refusals
from officine.fleet.directory import Access, NotFound
from officine.fleet.models import AgentEventRow, FindingRow, FleetPharmacyRow, OrganisationRow, PharmacyStatusRow
from officine.fleet.notify import check_webhook_url, webhook_key
from officine.fleet.summary import PROBLEMS
from officine.fleet.web.app import Console, console_of
from officine.services import story
from officine.web import views
from officine.web.forms import read_form, text, upload
from officine.web.limits import SNAPSHOT_IMPORT_BYTES
from officine.web.security import client_of

router = APIRouter()
SORTS = {
    "nom": (FleetPharmacyRow.name,),
    "note": (PharmacyStatusRow.score.asc().nulls_first(), FleetPharmacyRow.name),
    "contact": (PharmacyStatusRow.last_contact_at.asc().nulls_first(), FleetPharmacyRow.name),
    "alertes": (PharmacyStatusRow.open_alerts.desc(), FleetPharmacyRow.name),
}
SILENT = timedelta(hours=48)
PAGE_SIZE = 500


def _provider(console: Console, request: Request) -> Access:
    """The console's fleet-wide pages; a pharmacist goes to their pharmacy's page."""
    access = console.access(request)
    if access.pharmacy_id is not None:
        raise directory_redirect(access.pharmacy_id)
    access.require("parc")
    return access


def directory_redirect(pharmacy_id: int) -> Exception:
    from officine.web.security import Redirect  # noqa: PLC0415

    return Redirect(f"/pharmacies/{pharmacy_id}")


@router.get("/")
def fleet_table(request: Request, q: str = "", etat: str = "", tri: str = "nom") -> Response:
    console = console_of(request)
    access = _provider(console, request)
    now = datetime.now(UTC)
    query = (
        select(FleetPharmacyRow, PharmacyStatusRow)
        .join(PharmacyStatusRow, PharmacyStatusRow.pharmacy_id == FleetPharmacyRow.id)
        .where(access.pharmacies())
        .order_by(*SORTS.get(tri, SORTS["nom"]))
        .limit(PAGE_SIZE)
    )
    if q.strip():
        query = query.where(FleetPharmacyRow.name.ilike(f"%{_like(q.strip()[:120])}%", escape="\\"))
    if etat == "alertes":
        query = query.where(PharmacyStatusRow.open_alerts > 0)
    elif etat == "muettes":
        query = query.where(
            (PharmacyStatusRow.last_contact_at.is_(None)) | (PharmacyStatusRow.last_contact_at < now - SILENT)
        )
    elif etat == "sentinelle":
        query = query.where(PharmacyStatusRow.sentinel_alarms > 0)
    with console.fleet.session() as session:
        rows = session.execute(query).all()
        total = session.scalar(select(func.count()).select_from(FleetPharmacyRow).where(access.pharmacies()))
        session.expunge_all()
    return console.page(
        request,
        "console_fleet.html",
        access,
        rows=rows,
        total=total,
        q=q[:120],
        etat=etat,
        tri=tri if tri in SORTS else "nom",
        silent_before=now - SILENT,
        open_alerts=len(alerts.alerts(console.fleet, access)),
    )


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.get("/problemes")
def problems(request: Request, mesure: str = "", verdict: str = "fail") -> Response:
    console = console_of(request)
    access = _provider(console, request)
    measures = console.fleet.knowledge.measures()
    chosen = measures.get(mesure)
    verdict = verdict if verdict in PROBLEMS else "fail"
    found: list[Any] = []
    if chosen is not None:
        with console.fleet.session() as session:
            found = list(
                session.execute(
                    select(FleetPharmacyRow.id, FleetPharmacyRow.name, FindingRow.hostname, FindingRow.text)
                    .join(FindingRow, FindingRow.pharmacy_id == FleetPharmacyRow.id)
                    .where(access.pharmacies(), FindingRow.measure_id == chosen.id, FindingRow.verdict == verdict)
                    .order_by(FleetPharmacyRow.name, FindingRow.hostname)
                    .limit(5000)
                ).all()
            )
    return console.page(
        request,
        "console_problems.html",
        access,
        measures=list(measures.values()),
        chosen=chosen,
        verdict=verdict,
        found=found,
        pharmacy_count=len({r[0] for r in found}),
        problems=PROBLEMS,
    )


# -- pharmacies ------------------------------------------------------------------------------------


@router.get("/pharmacies/nouvelle")
def new_pharmacy(request: Request) -> Response:
    console = console_of(request)
    access = console.access(request)
    access.require("gerer")
    return console.page(request, "console_new_pharmacy.html", access)


@router.post("/pharmacies")
async def create_pharmacy(request: Request) -> Response:
    console = console_of(request)
    access = console.access(request)
    form = await read_form(request, access.user)
    try:
        pharmacy_id = await run_in_threadpool(
            directory.create_pharmacy, console.fleet, access, text(form, "name"), text(form, "city")
        )
    except UserError as exc:
        values = {"name": text(form, "name"), "city": text(form, "city")}
        return console.page(request, "console_new_pharmacy.html", access, status=400, error=exc.message, values=values)
    return RedirectResponse(f"/pharmacies/{pharmacy_id}?ok=pharmacy_created", 303)


@router.get("/pharmacies/{pharmacy_id:id}")
def pharmacy_page(request: Request, pharmacy_id: int) -> Response:
    console = console_of(request)
    access = console.access(request)
    return _pharmacy_page(request, console, access, pharmacy_id)


def _pharmacy_page(
    request: Request, console: Console, access: Access, pharmacy_id: int, status: int = 200, **context: Any
) -> Response:
    info = directory.pharmacy(console.fleet, access, pharmacy_id)  # NotFound outside the person's scope
    pharmacy = console.fleet.pharmacy(pharmacy_id)
    current = pharmacy.latest_audit()  # judged by the jobs; a page never judges
    summaries = {p.id: p.summary for p in console.fleet.knowledge.catalogue.practices}
    with console.fleet.session() as session:
        status_row = session.get(PharmacyStatusRow, pharmacy_id)
        events = list(
            session.execute(
                select(AgentEventRow.kind, AgentEventRow.at, AgentEventRow.payload)
                .where(AgentEventRow.pharmacy_id == pharmacy_id, AgentEventRow.kind != "plan")
                .order_by(AgentEventRow.at.desc())
                .limit(15)
            ).all()
        )
        session.expunge_all()
    extra: dict[str, Any] = {}
    if current is not None:
        derived = pharmacy.derived
        extra = {
            "tiles": derived(current.id, "tiles", lambda: views.tiles(current.assessment, summaries)),
            "sections": derived(current.id, "sections", lambda: story.sections(current.assessment)),
            "trend": pharmacy.trend(current),
            "hostnames": [h["hostname"] for h in current.assessment.get("hosts", [])],
        }
    return console.page(
        request,
        "console_pharmacy.html",
        access,
        status=status,
        info=info,
        current=current,
        status_row=status_row,
        workstations=pharmacy.workstations(),
        chart=views.chart(pharmacy.score_series(datetime.now(UTC) - timedelta(days=400))),
        agents=agents.agents_of(console.fleet, access, pharmacy_id),
        tokens=agents.tokens_of(console.fleet, access, pharmacy_id) if access.may("inscrire") else [],
        alerts=alerts.alerts(console.fleet, access, open_only=True, pharmacy_id=pharmacy_id),
        events=events,
        **extra,
        **context,
    )


@router.post("/pharmacies/{pharmacy_id:id}/jetons")
async def new_token(request: Request, pharmacy_id: int) -> Response:
    console = console_of(request)
    access = console.access(request)
    await read_form(request, access.user)
    token = await run_in_threadpool(agents.create_token, console.fleet, access, pharmacy_id, client_of(request))
    return _pharmacy_page(request, console, access, pharmacy_id, new_token=token)


@router.post("/jetons/{token_id:id}/retirer")
async def withdraw_token(request: Request, token_id: int) -> Response:
    console = console_of(request)
    access = console.access(request)
    await read_form(request, access.user)
    pharmacy_id = await run_in_threadpool(agents.withdraw_token, console.fleet, access, token_id, client_of(request))
    return RedirectResponse(f"/pharmacies/{pharmacy_id}?ok=token_withdrawn", 303)  # the row's own pharmacy


@router.post("/agents/{agent_id:id}/revoquer")
async def revoke(request: Request, agent_id: int) -> Response:
    console = console_of(request)
    access = console.access(request)
    await read_form(request, access.user)
    pharmacy_id = await run_in_threadpool(agents.revoke, console.fleet, access, agent_id, client_of(request))
    return RedirectResponse(f"/pharmacies/{pharmacy_id}?ok=agent_revoked", 303)  # the row's own pharmacy


@router.post("/pharmacies/{pharmacy_id:id}/importer")
async def import_envelope(request: Request, pharmacy_id: int) -> Response:
    """A snapshot collected without an agent (the PowerShell collector's envelope)."""
    console = console_of(request)
    access = console.access(request)
    form = await read_form(request, access.user)
    try:
        found = await upload(form, "snapshot", SNAPSHOT_IMPORT_BYTES)
        if found is None:
            raise UserError("Choisissez le fichier de l'instantané. Rien n'a été importé.")
        name, raw = found
        receipt = await run_in_threadpool(
            ingest.upload, console.fleet, access, pharmacy_id, raw, PurePath(name).name, client_of(request)
        )
    except UserError as exc:
        return _pharmacy_page(request, console, access, pharmacy_id, status=400, error=exc.message)
    notice = "snapshot_known" if receipt.already else "snapshot_queued"
    return RedirectResponse(f"/pharmacies/{pharmacy_id}?ok={notice}", 303)


# -- alerts, log, settings -------------------------------------------------------------------------


@router.get("/alertes")
def alerts_page(request: Request, toutes: int = 0) -> Response:
    console = console_of(request)
    access = _provider(console, request)
    found = alerts.alerts(console.fleet, access, open_only=not toutes)
    return console.page(request, "console_alerts.html", access, alerts=found, all=bool(toutes))


@router.post("/alertes/{alert_id:id}/acquitter")
async def acknowledge(request: Request, alert_id: int) -> Response:
    console = console_of(request)
    access = console.access(request)
    await read_form(request, access.user)
    await run_in_threadpool(alerts.acknowledge, console.fleet, access, alert_id, client_of(request))
    return RedirectResponse("/alertes?ok=alert_acknowledged", 303)


@router.get("/journal")
def log_page(request: Request) -> Response:
    console = console_of(request)
    access = _provider(console, request)
    return console.page(
        request,
        "console_log.html",
        access,
        entries=directory.console_log(console.fleet, access),
        refusals=refusals.recent(console.fleet, access),
    )


@router.get("/parametres")
def settings(request: Request) -> Response:
    console = console_of(request)
    access = _provider(console, request)
    access.require("gerer")
    return _settings_page(request, console, access)


def _settings_page(request: Request, console: Console, access: Access, status: int = 200, **context: Any) -> Response:
    with console.fleet.session() as session:
        organisation = session.get(OrganisationRow, access.organisation_id)
        if organisation is None:
            raise NotFound
        session.expunge(organisation)
    return console.page(
        request,
        "console_settings.html",
        access,
        status=status,
        organisation=organisation,
        webhook_key=webhook_key(access.organisation_id) if organisation.webhook_url else None,
        **context,
    )


@router.post("/parametres")
async def save_settings(request: Request) -> Response:
    console = console_of(request)
    access = _provider(console, request)
    access.require("gerer")
    form = await read_form(request, access.user)
    emails_text, webhook = text(form, "emails"), text(form, "webhook")
    try:
        emails = [e.strip() for e in emails_text.replace(";", ",").replace("\n", ",").split(",") if e.strip()]
        if len(emails) > 20 or any(len(e) > 200 or e.count("@") != 1 or any(c.isspace() for c in e) for e in emails):
            raise UserError("Adresses de courriel : jusqu'à 20 adresses valides, séparées par des virgules.")
        url = check_webhook_url(webhook)
    except UserError as exc:
        return _settings_page(
            request, console, access, status=400, error=exc.message, values={"emails": emails_text, "webhook": webhook}
        )
    with console.fleet.transaction() as session:
        organisation = session.get_one(OrganisationRow, access.organisation_id)
        organisation.alert_emails = emails
        organisation.webhook_url = url or None
        directory.log(
            console.fleet,
            access,
            "parametres_alertes",
            None,
            {"courriels": len(emails), "webhook": bool(url)},
            client_of(request),
            session,
        )
    return RedirectResponse("/parametres?ok=settings_saved", 303)
