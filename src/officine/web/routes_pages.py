"""The pharmacist's pages: home, practices, workstations, history, the report, settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from officine.errors import UserError
from officine.incident.runbook import CONTACT_LABELS
from officine.services import site, story
from officine.services.accounts import SignedIn
from officine.services.bilan import bilan_pdf
from officine.services.history import AuditLine
from officine.web import views
from officine.web.app import Web, web_of
from officine.web.forms import read_form, text, upload
from officine.web.security import Redirect

router = APIRouter()
HISTORY_DAYS = 400


def _profile_or_setup(web: Web) -> site.Profile:
    profile = web.pharmacy.profile()
    if profile is None:
        raise Redirect("/parametres")
    return profile


# -- home ---------------------------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    profile = _profile_or_setup(web)
    current = web.pharmacy.current()
    if current is None:
        return web.page(request, "home.html", user, profile=profile, current=None)
    summaries = {p.id: p.summary for p in web.pharmacy.knowledge.catalogue.practices}
    derived = web.pharmacy.derived
    return web.page(
        request,
        "home.html",
        user,
        profile=profile,
        current=current,
        tiles=derived(current.id, "tiles", lambda: views.tiles(current.assessment, summaries)),
        trend=web.pharmacy.trend(current),
        sections=derived(current.id, "sections", lambda: story.sections(current.assessment)),
        hostnames=[h["hostname"] for h in current.assessment.get("hosts", [])],
    )


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
    current = web.pharmacy.current()
    results, tile = {}, None
    if current is not None:
        results = web.pharmacy.derived(
            current.id, "results", lambda: {m["id"]: m for m in current.assessment.get("measures", [])}
        )
        tiles = web.pharmacy.derived(current.id, "practice-tiles", lambda: views.tiles(current.assessment, {}))
        tile = next((t for t in tiles if t.id == practice_id), None)
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
    form = await read_form(request, user)
    question = text(form, "question")
    try:
        proof = await upload(form, "proof", 5 * 1024 * 1024)
        web.pharmacy.record_answer(question, text(form, "value"), user.username, proof)
    except UserError as exc:
        typed = {question: text(form, "value")}
        return _practice_page(web, request, user, practice_id, error=exc.message, status=400, typed=typed)
    return RedirectResponse(f"/pratique/{quote(practice_id)}?ok=answer_saved#{quote(question.split('.')[0])}", 303)


@router.post("/pratique/{practice_id}/exception")
async def set_exception(request: Request, practice_id: str) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    measure = text(form, "measure")
    try:
        if text(form, "action") == "withdraw":
            web.pharmacy.withdraw_exception(measure, user.username)
            notice = "exception_withdrawn"
        else:
            web.pharmacy.set_exception(measure, text(form, "justification"), text(form, "until"), user.username)
            notice = "exception_saved"
    except UserError as exc:
        typed = {f"{measure}.justification": text(form, "justification"), f"{measure}.until": text(form, "until")}
        return _practice_page(web, request, user, practice_id, error=exc.message, status=400, typed=typed)
    return RedirectResponse(f"/pratique/{quote(practice_id)}?ok={notice}#{quote(measure)}", 303)


@router.get("/preuve/{proof_id:id}")
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


# -- history ----------------------------------------------------------------------------------------


@router.get("/historique")
def history(request: Request, avant: int | None = None, apres: int | None = None) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    series = web.pharmacy.score_series(today - timedelta(days=HISTORY_DAYS))  # whole days: the same all day
    audits = web.pharmacy.recent_audits(60)
    comparison = None
    if len(audits) >= 2:
        new = web.pharmacy.audit_line(apres) if apres else audits[0]
        if new is None:
            raise HTTPException(404)
        if avant:
            old = web.pharmacy.audit_line(avant)
        else:  # by default, the last audit of the same workstations: like with like
            old = web.pharmacy.same_scope_before(new) or next((a for a in audits if a.id < new.id), None)
        if old is None:
            raise HTTPException(404)
        comparison = _comparison(web, old, new)
    return web.page(
        request,
        "history.html",
        user,
        chart=views.chart(series),
        series=series,
        audits=audits,
        comparison=comparison,
    )


def _comparison(web: Web, old: AuditLine, new: AuditLine) -> dict[str, Any]:
    new_doc, old_doc = web.pharmacy.audit_document(new.id), web.pharmacy.audit_document(old.id)
    if new_doc is None or old_doc is None:
        raise HTTPException(404)
    names = web.pharmacy.audit_hostnames([old.id, new.id])
    return {
        "old": old,
        "new": new,
        "old_hosts": names.get(old.id, []),
        "new_hosts": names.get(new.id, []),
        "scope": story.scope_change(names.get(old.id, []), names.get(new.id, [])) if old.scope != new.scope else None,
        "changes": views.compare(old_doc, new_doc),
    }


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
    form = await read_form(request, user)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    first_run = web.pharmacy.profile() is None
    try:
        profile = site.parse_profile(values)
        # Refused whole if contacts.yaml cannot be written; the declared USB devices change AMO-01.
        web.pharmacy.save_profile(profile, user.username)
    except UserError as exc:
        # Show back exactly what was typed: nothing the user entered is lost.
        return _settings_page(web, request, user, web.pharmacy.profile(), error=exc.message, form=values)
    return RedirectResponse("/?ok=profile_saved" if not first_run else "/postes?ok=profile_saved", 303)
