"""The incident page: the reflexes to print, "Commencer" to open a dated journal with who does
what, each step marked done or passed by whoever did it. The same journal as
`officine incident start`: an incident begun on one is continued on the other."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from officine.errors import UserError
from officine.incident.report import ACTIONS_FR
from officine.incident.runbook import CONTACT_LABELS, FIXED_CONTACTS, steps
from officine.services import incidents, site
from officine.services.accounts import SignedIn
from officine.web.app import Web, web_of
from officine.web.forms import read_form, text

router = APIRouter()


def _page(
    web: Web, request: Request, user: SignedIn, error: str | None = None, typed: dict[str, str] | None = None
) -> Response:
    profile = web.pharmacy.profile()
    return web.page(
        request,
        "incident.html",
        user,
        status=400 if error else 200,
        error=error,
        typed=typed or {},
        desk=incidents.desk(),
        steps=steps(),
        profile=profile,
        contacts=dict(profile.contacts) if profile else {},
        labels=CONTACT_LABELS,
        fixed=FIXED_CONTACTS,
        roles=site.TEAM_ROLES,
        people=_people(profile, user),
        journal_actions=ACTIONS_FR,
        describe=incidents.describe,
    )


def _people(profile: site.Profile | None, user: SignedIn) -> list[str]:
    """Who can take a step: the team declared on the « Pharmacie » page, the IT provider, oneself."""
    names = [p.name for p in profile.team] if profile else []
    provider = profile.contacts.get("prestataire") if profile else None
    if provider is not None and provider.name:
        names.append(f"{provider.name} ({CONTACT_LABELS['prestataire'].lower()})")
    return list(dict.fromkeys([*names, user.username]))


@router.get("/incident")
def incident(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return _page(web, request, user)


@router.post("/incident/commencer")
async def start(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    assignments = {s.id: text(form, f"assign-{s.id}") for s in steps()}
    try:
        incidents.start(user.username, text(form, "summary"), assignments)
    except UserError as exc:
        return _page(web, request, user, exc.message, {"summary": text(form, "summary")})
    await run_in_threadpool(web.pharmacy.reassess)  # the journal feeds INC-02
    return RedirectResponse("/incident?ok=incident_started#etapes", 303)


@router.post("/incident/etape")
async def step(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    step_id = text(form, "step")
    try:
        incidents.mark(user.username, step_id, text(form, "status") == "done", text(form, "note"))
    except UserError as exc:
        return _page(web, request, user, exc.message, {f"note-{step_id}": text(form, "note")})
    return RedirectResponse(f"/incident?ok=step_noted#etape-{step_id}", 303)


@router.post("/incident/clore")
async def close(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    try:
        incidents.close(user.username, text(form, "note"))
    except UserError as exc:
        return _page(web, request, user, exc.message)
    await run_in_threadpool(web.pharmacy.reassess)
    return RedirectResponse("/incident?ok=incident_closed", 303)
