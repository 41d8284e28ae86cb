"""The workstations: the list, one page per workstation, retiring one, auditing this machine,
importing another's snapshot, and what the IT provider needs to collect a Windows workstation."""

from __future__ import annotations

from importlib import resources
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markdown_it import MarkdownIt
from starlette.concurrency import run_in_threadpool

from officine.collectors.windows.script import powershell_script
from officine.errors import UserError
from officine.services import story
from officine.services.accounts import SignedIn
from officine.web.app import Web, web_of
from officine.web.forms import MAX_IMPORT_BYTES, read_form, text, upload

router = APIRouter()
MAX_ID = 2**63 - 1  # larger ids cannot be in the database: a page that does not exist


def _workstation_id(host_id: int) -> int:
    if not 0 < host_id <= MAX_ID:
        raise HTTPException(404)
    return host_id


@router.get("/postes")
def workstations(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return _workstations_page(web, request, user)


def _workstations_page(
    web: Web, request: Request, user: SignedIn, error: str | None = None, status: int = 200
) -> Response:
    current = web.pharmacy.current()
    newest = web.pharmacy.newest_snapshot_ids()
    judged = {h["snapshot_id"]: h for h in current.assessment.get("hosts", [])} if current else {}
    counts = (
        web.pharmacy.derived(current.id, "host-counts", lambda: story.host_counts(current.assessment))
        if current
        else {}
    )
    return web.page(
        request,
        "workstations.html",
        user,
        status=status,
        error=error,
        hosts=web.pharmacy.workstations(),
        newest=newest,
        judged=judged,
        counts=counts,
    )


@router.get("/postes/{host_id:int}")
def workstation(request: Request, host_id: int) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return _workstation_page(web, request, user, _workstation_id(host_id))


def _workstation_page(
    web: Web, request: Request, user: SignedIn, host_id: int, error: str | None = None, status: int = 200
) -> Response:
    view = web.pharmacy.workstation_view(host_id)
    if view is None:
        raise HTTPException(404)
    return web.page(request, "workstation.html", user, status=status, error=error, v=view, w=view.workstation)


@router.post("/postes/{host_id:int}/retirer")
async def retire(request: Request, host_id: int) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    try:
        await run_in_threadpool(web.pharmacy.retire, _workstation_id(host_id), user.username, text(form, "reason"))
    except UserError as exc:
        return _workstation_page(web, request, user, host_id, error=exc.message, status=400)
    return RedirectResponse(f"/postes/{host_id}?ok=retired", 303)


@router.post("/postes/{host_id:int}/remettre")
async def reinstate(request: Request, host_id: int) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    await read_form(request, user)
    try:
        await run_in_threadpool(web.pharmacy.reinstate, _workstation_id(host_id))
    except UserError as exc:
        return _workstation_page(web, request, user, host_id, error=exc.message, status=400)
    return RedirectResponse(f"/postes/{host_id}?ok=reinstated", 303)


@router.post("/postes/auditer")
async def audit_now(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    await read_form(request, user)
    job = web.jobs.start_audit()
    return RedirectResponse(f"/postes/audit/{quote(job.id)}", 303)


@router.get("/postes/audit/{job_id}")
def audit_progress(request: Request, job_id: str) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    job = web.jobs.get(job_id)
    if job is None or job.kind != "audit":
        raise HTTPException(404)
    return web.page(request, "audit_progress.html", user, job=job)


@router.post("/postes/importer")
async def import_snapshot(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    try:
        found = await upload(form, "snapshot", MAX_IMPORT_BYTES)
        if found is None:
            raise UserError("Choisissez le fichier d'instantané (.json) rapporté de l'autre poste.")
        await run_in_threadpool(web.pharmacy.import_snapshot, found[1], found[0])  # parse and judge: off the loop
    except UserError as exc:
        return _workstations_page(web, request, user, error=exc.message, status=400)
    return RedirectResponse("/postes?ok=imported", 303)


# -- for the IT provider ------------------------------------------------------------------------


@router.get("/postes/collecte-windows.ps1")
def windows_script(request: Request) -> Response:
    web_of(request).require_user(request)
    # UTF-8 with BOM and CRLF, as `officine collector windows --out` writes it for PowerShell 5.1.
    body = ("\ufeff" + powershell_script().replace("\r\n", "\n").replace("\n", "\r\n")).encode("utf-8")
    return Response(
        body,
        media_type="application/octet-stream",
        headers={"Content-Disposition": 'attachment; filename="collect.ps1"'},
    )


@router.get("/postes/guide-prestataire")
def provider_guide(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    source = resources.files("officine.web").joinpath("guides/guide-prestataire.md").read_text(encoding="utf-8")
    # Raw HTML in the Markdown is escaped, not rendered: the guide is text.
    html = MarkdownIt("commonmark", {"html": False}).render(source)
    return web.page(request, "guide.html", user, guide=html)
