"""The pharmacist's pages: home, practices, workstations, history, the report, settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from officine.errors import UserError
from officine.incident.runbook import CONTACT_LABELS, FIXED_CONTACTS, steps
from officine.services import site
from officine.services.accounts import SignedIn
from officine.services.bilan import bilan_pdf
from officine.services.pharmacy import CurrentAudit
from officine.web import views
from officine.web.app import Web, web_of
from officine.web.security import Redirect, check_csrf

router = APIRouter()
MAX_IMPORT_BYTES = 64 * 1024 * 1024
HISTORY_DAYS = 400


def _current(web: Web) -> CurrentAudit | None:
    return web.pharmacy.current()


def _profile_or_setup(web: Web) -> site.Profile:
    profile = web.pharmacy.profile()
    if profile is None:
        raise Redirect("/parametres")
    return profile


async def _form(request: Request, user: SignedIn) -> FormData:
    form = await request.form(max_part_size=MAX_IMPORT_BYTES)
    check_csrf(request, form, user)
    return form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _upload(form: FormData, name: str, limit: int) -> tuple[str, bytes] | None:
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(limit + 1)
    if len(data) > limit:
        raise UserError(
            f"Le fichier {value.filename} est trop gros ({limit // (1024 * 1024)} Mo au plus). Rien n'a été enregistré."
        )
    return value.filename, data


# -- home ---------------------------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    profile = _profile_or_setup(web)
    current = _current(web)
    recent = web.pharmacy.recent_audits(2)
    summaries = {p.id: p.summary for p in web.pharmacy.knowledge.catalogue.practices}
    return web.page(
        request,
        "home.html",
        user,
        profile=profile,
        current=current,
        tiles=views.tiles(current.assessment, summaries) if current else [],
        trend=views.trend(recent),
        priorities=_priorities(current),
    )


def _priorities(current: CurrentAudit | None) -> list[dict[str, Any]]:
    if current is None:
        return []
    by_id = {m["id"]: m for m in current.assessment.get("measures", [])}
    return [
        {**p, "practice": by_id[p["id"]]["practice"]}
        for p in current.assessment.get("priorities", [])
        if p["id"] in by_id
    ]


# -- practices ----------------------------------------------------------------------------------


@router.get("/pratique/{practice_id}")
def practice(request: Request, practice_id: str) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return _practice_page(web, request, user, practice_id)


def _practice_page(
    web: Web,
    request: Request,
    user: SignedIn,
    practice_id: str,
    error: str | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    catalogue = web.pharmacy.knowledge.catalogue
    definition = next((p for p in catalogue.practices if p.id == practice_id), None)
    if definition is None:
        raise HTTPException(404)
    current = _current(web)
    results = {m["id"]: m for m in (current.assessment.get("measures", []) if current else [])}
    tile = next((t for t in views.tiles(current.assessment, {}) if t.id == practice_id), None) if current else None
    return web.page(
        request,
        "practice.html",
        user,
        status=status,
        error=error,
        practice=definition,
        tile=tile,
        results=results,
        given=web.pharmacy.given_answers(),
        current=current,
        today=datetime.now(UTC).date().isoformat(),
        typed=typed or {},  # what was typed in a refused form, shown back: nothing typed is lost
    )


@router.post("/pratique/{practice_id}/reponse")
async def answer(request: Request, practice_id: str) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await _form(request, user)
    question = _text(form, "question")
    try:
        proof = await _upload(form, "proof", 5 * 1024 * 1024)
        web.pharmacy.record_answer(question, _text(form, "value"), user.username, proof)
    except UserError as exc:
        typed = {question: _text(form, "value")}
        return _practice_page(web, request, user, practice_id, error=exc.message, status=400, typed=typed)
    return RedirectResponse(f"/pratique/{quote(practice_id)}?ok=answer_saved#{quote(question.split('.')[0])}", 303)


@router.post("/pratique/{practice_id}/exception")
async def set_exception(request: Request, practice_id: str) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await _form(request, user)
    measure = _text(form, "measure")
    try:
        if _text(form, "action") == "withdraw":
            web.pharmacy.withdraw_exception(measure, user.username)
            notice = "exception_withdrawn"
        else:
            web.pharmacy.set_exception(measure, _text(form, "justification"), _text(form, "until"), user.username)
            notice = "exception_saved"
    except UserError as exc:
        typed = {f"{measure}.justification": _text(form, "justification"), f"{measure}.until": _text(form, "until")}
        return _practice_page(web, request, user, practice_id, error=exc.message, status=400, typed=typed)
    return RedirectResponse(f"/pratique/{quote(practice_id)}?ok={notice}#{quote(measure)}", 303)


@router.get("/preuve/{proof_id}")
def proof(request: Request, proof_id: int) -> Response:
    web = web_of(request)
    web.require_user(request)
    found = web.pharmacy.proof(proof_id)
    if found is None:
        raise HTTPException(404)
    filename, content_type, data = found
    return Response(
        data,
        media_type=content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


# -- workstations ---------------------------------------------------------------------------------


@router.get("/postes")
def workstations(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return _workstations_page(web, request, user)


def _workstations_page(
    web: Web, request: Request, user: SignedIn, error: str | None = None, status: int = 200
) -> Response:
    current = _current(web)
    return web.page(
        request,
        "workstations.html",
        user,
        status=status,
        error=error,
        hosts=web.pharmacy.hosts(),
        judged=views.host_findings(current.assessment) if current else {},
    )


@router.post("/postes/auditer")
async def audit_now(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    await _form(request, user)
    job = web.jobs.start()
    return RedirectResponse(f"/postes/audit/{job.id}", 303)


@router.get("/postes/audit/{job_id}")
def audit_progress(request: Request, job_id: str) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    job = web.jobs.get(job_id)
    if job is None:
        raise HTTPException(404)
    return web.page(request, "audit_progress.html", user, job=job)


@router.post("/postes/importer")
async def import_snapshot(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await _form(request, user)
    try:
        upload = await _upload(form, "snapshot", MAX_IMPORT_BYTES)
        if upload is None:
            raise UserError("Choisissez le fichier d'instantané (.json) rapporté de l'autre poste.")
        web.pharmacy.import_snapshot(upload[1], upload[0])
    except UserError as exc:
        return _workstations_page(web, request, user, error=exc.message, status=400)
    return RedirectResponse("/postes?ok=imported", 303)


# -- history ----------------------------------------------------------------------------------------


@router.get("/historique")
def history(request: Request, avant: int | None = None, apres: int | None = None) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    series = web.pharmacy.score_series(datetime.now(UTC) - timedelta(days=HISTORY_DAYS))
    audits = web.pharmacy.recent_audits(60)
    changes = None
    pair = None
    if len(audits) >= 2:
        new_id = apres or audits[0][0]
        old_id = avant or next((a[0] for a in audits if a[0] < new_id), audits[-1][0])
        new_doc, old_doc = web.pharmacy.audit_document(new_id), web.pharmacy.audit_document(old_id)
        if new_doc is None or old_doc is None:
            raise HTTPException(404)
        changes = views.compare(old_doc, new_doc)
        pair = (old_id, new_id)
    return web.page(
        request,
        "history.html",
        user,
        chart=views.chart(series),
        series=series,
        audits=audits,
        changes=changes,
        pair=pair,
    )


# -- report -------------------------------------------------------------------------------------------


@router.get("/bilan")
def report(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return web.page(request, "report.html", user, bilan=web.pharmacy.bilan())


@router.get("/bilan.pdf")
def report_pdf(request: Request) -> Response:
    web = web_of(request)
    web.require_user(request)
    data = web.pharmacy.bilan()
    if data is None:
        raise Redirect("/postes")
    pdf = bilan_pdf(data, web.messages, web.ui["states"])
    name = f"bilan-securite-{datetime.now(UTC):%Y-%m-%d}.pdf"
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/bilan.json")
def report_json(request: Request) -> Response:
    web = web_of(request)
    web.require_user(request)
    data = web.pharmacy.bilan()
    if data is None:
        raise Redirect("/postes")
    name = f"bilan-securite-{datetime.now(UTC):%Y-%m-%d}.json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- settings -----------------------------------------------------------------------------------------


@router.get("/parametres")
def settings(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return _settings_page(web, request, user, web.pharmacy.profile())


def _settings_page(
    web: Web, request: Request, user: SignedIn, profile: Any, error: str | None = None, form: Any = None
) -> Response:
    team = list(profile.team) if profile else []
    folders = list(profile.folders) if profile else []
    return web.page(
        request,
        "settings.html",
        user,
        status=400 if error else 200,
        error=error,
        profile=profile,
        form=form,
        team_rows=[*team, *[None] * 3],
        folder_rows=[*folders, *[None] * 2],
        contact_labels=CONTACT_LABELS,
        roles=site.TEAM_ROLES,
        first_run=profile is None,
    )


@router.post("/parametres")
async def save_settings(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await _form(request, user)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    first_run = web.pharmacy.profile() is None
    try:
        profile = site.parse_profile(values)
    except UserError as exc:
        # Show back exactly what was typed: nothing the user entered is lost.
        return _settings_page(web, request, user, web.pharmacy.profile(), error=exc.message, form=values)
    web.pharmacy.save_profile(profile, user.username)
    return RedirectResponse("/?ok=profile_saved" if not first_run else "/postes?ok=profile_saved", 303)


# -- incident -----------------------------------------------------------------------------------------


@router.get("/incident")
def incident(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    profile = web.pharmacy.profile()
    return web.page(
        request,
        "incident.html",
        user,
        steps=steps(),
        contacts={r: c for r, c in profile.contacts.items()} if profile else {},
        labels=CONTACT_LABELS,
        fixed=FIXED_CONTACTS,
    )
