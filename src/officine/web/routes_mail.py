""" "Un courriel suspect ?": upload a saved message, read the verdict. The message is analysed
in memory and never stored; the pharmacy's trusted server and known senders are set here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from officine.errors import UserError
from officine.mail import MAX_MESSAGE_BYTES
from officine.mail import settings as mail_settings
from officine.mail.analyse import Analysis, analyse_bytes
from officine.services.accounts import SignedIn
from officine.web.app import Web, web_of
from officine.web.security import check_csrf

router = APIRouter()
NOTICES = {
    "serveur": "Serveur de confiance enregistré.",
    "ajoute": "Expéditeur connu ajouté : ses domaines sont reconnus, et leurs imitations seront signalées.",
    "retire": "Expéditeur retiré de la liste.",
}
_BADGES = {"dangereux": "v-fail", "suspect": "v-warn", "rien_d_anormal": "v-pass"}


async def _form(request: Request, user: SignedIn) -> FormData:
    form = await request.form(max_part_size=MAX_MESSAGE_BYTES + 1)
    check_csrf(request, form, user)
    return form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _page(web: Web, request: Request, user: SignedIn, status: int = 200, **context: Any) -> Response:
    stored = mail_settings.load(web.store)
    return web.page(
        request,
        "mail.html",
        user,
        status=status,
        stored=stored,
        kinds=mail_settings.KINDS,
        badges=_BADGES,
        mail_notice=NOTICES.get(request.query_params.get("fait", "")),
        max_mb=MAX_MESSAGE_BYTES // (1024 * 1024),
        **context,
    )


@router.get("/courriel")
def mail_page(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return _page(web, request, user)


@router.post("/courriel/analyser")
async def analyse(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await _form(request, user)
    upload = form.get("message")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise UserError("Choisissez le message à analyser (fichier .eml, ou .msg d'Outlook).")
        data = await upload.read(MAX_MESSAGE_BYTES + 1)
        if len(data) > MAX_MESSAGE_BYTES:
            raise UserError(f"Le message est trop gros ({MAX_MESSAGE_BYTES // (1024 * 1024)} Mo au plus).")
        settings = mail_settings.settings_from(mail_settings.load(web.store))
        result: Analysis = await run_in_threadpool(analyse_bytes, data, settings)
    except UserError as exc:
        return _page(web, request, user, status=400, error=exc.message)
    return _page(web, request, user, result=result, filename=upload.filename)


@router.post("/courriel/serveur")
async def trusted_server(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await _form(request, user)
    try:
        mail_settings.set_trusted_server(web.store, _text(form, "serveur"), user.username)
    except UserError as exc:
        return _page(web, request, user, status=400, error=exc.message)
    return RedirectResponse("/courriel?fait=serveur#reglages", 303)


@router.post("/courriel/expediteurs")
async def add_sender(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await _form(request, user)
    try:
        mail_settings.add_sender(
            web.store, _text(form, "nom"), _text(form, "genre"), _text(form, "domaines"), user.username
        )
    except UserError as exc:
        return _page(web, request, user, status=400, error=exc.message, typed=dict(form))
    return RedirectResponse("/courriel?fait=ajoute#expediteurs", 303)


@router.post("/courriel/expediteurs/{index:id}/retirer")
async def remove_sender(request: Request, index: int) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    await _form(request, user)
    try:
        mail_settings.remove_sender(web.store, index, user.username)
    except UserError as exc:
        return _page(web, request, user, status=400, error=exc.message)
    return RedirectResponse("/courriel?fait=retire#expediteurs", 303)
