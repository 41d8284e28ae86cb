"""The backups page: the plan, each destination's last run and drill with its proof, the SAV
verdicts, and "back up now" / "test a restore now" with their progress."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from officine.web.app import web_of
from officine.web.forms import read_form, text

router = APIRouter()


@router.get("/sauvegardes")
def backups(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return web.page(request, "backups.html", user, o=web.pharmacy.backup_overview())


@router.post("/sauvegardes/lancer")
async def start(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    job = web.jobs.start_drill() if text(form, "what") == "drill" else web.jobs.start_backup()
    return RedirectResponse(f"/sauvegardes/suivi/{quote(job.id)}", 303)


@router.get("/sauvegardes/suivi/{job_id}")
def progress(request: Request, job_id: str) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    job = web.jobs.get(job_id)
    if job is None or job.kind not in ("backup", "drill"):
        raise HTTPException(404)
    return web.page(request, "backup_progress.html", user, job=job)
