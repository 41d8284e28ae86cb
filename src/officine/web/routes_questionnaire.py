"""The provider's questionnaire on the dashboard.

The pharmacy's side (signed in, titulaire): ask a provider (the one-time link is shown once),
import a signed PDF received by e-mail, read the questionnaires received.

The provider's side (no account: the one-time link is the credential): answer and sign with
one's .p12 certificate; a provider without one first downloads a self-signed certificate made
here (the dashboard does not keep it). Once a questionnaire is accepted the link is spent."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from officine.errors import UserError
from officine.registers import questionnaire, signing
from officine.registers.book import RegisterBook
from officine.services.site import load_profile
from officine.store import Store
from officine.web.app import web_of
from officine.web.forms import read_form, text, upload
from officine.web.security import ANON_CSRF_COOKIE, anon_csrf_token, check_csrf, set_cookie

router = APIRouter()
TOKEN_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _provider_page(request: Request, token: str, status: int = 200, **context: Any) -> HTMLResponse:
    web = web_of(request)
    csrf = anon_csrf_token(request)
    response = web.page(
        request,
        "questionnaire.html",
        None,
        status=status,
        csrf=csrf,
        token=token,
        items=questionnaire.items(),
        engagement=questionnaire.definition()["engagement"],
        **context,
    )
    set_cookie(response, ANON_CSRF_COOKIE, csrf, web.secure_cookies)
    return response


def _open(request: Request, token: str) -> tuple[int, int, str]:
    """The request behind a link, or the French page saying why the link no longer works."""
    if not 20 <= len(token) <= 100 or not set(token) <= TOKEN_CHARS:
        raise _Refused("Ce lien n'est pas valide : vérifiez qu'il a été copié en entier.")
    try:
        return questionnaire.by_token(web_of(request).store, token)
    except UserError as exc:
        raise _Refused(exc.message) from exc


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _refused(request: Request, message: str) -> HTMLResponse:
    return web_of(request).page(request, "error.html", None, status=410, title="Lien inutilisable", text=message)


def _answers(form: FormData) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in questionnaire.items():
        answer = {"reponse": text(form, item["id"])}
        for field in item.get("fields", []):
            answer[field] = text(form, f"{item['id']}.{field}")
        found[item["id"]] = answer
    return found


@router.get("/questionnaire/{token}")
def provider_form(request: Request, token: str) -> Response:
    try:
        _, provider, _ = _open(request, token)
    except _Refused as exc:
        return _refused(request, exc.message)
    return _provider_page(request, token, provider=provider, typed={})


@router.post("/questionnaire/{token}/certificat")
async def make_certificate(request: Request, token: str) -> Response:
    """A self-signed certificate for a provider who has none, handed over and not kept here."""
    form = await request.form()
    check_csrf(request, form, None)
    try:
        _open(request, token)
        p12 = await run_in_threadpool(
            signing.create_identity,
            text(form, "nom"),
            text(form, "societe"),
            text(form, "courriel"),
            text(form, "mot_de_passe"),
        )
    except _Refused as exc:
        return _refused(request, exc.message)
    except UserError as exc:
        typed = {k: text(form, k) for k in ("nom", "societe", "courriel")}
        return _provider_page(request, token, 400, error=exc.message, typed=typed)
    return Response(
        p12,
        media_type="application/x-pkcs12",
        headers={"Content-Disposition": 'attachment; filename="certificat-auto-signe.p12"'},
    )


@router.post("/questionnaire/{token}")
async def provider_answer(request: Request, token: str) -> Response:
    form = await request.form(max_part_size=64 * 1024)
    check_csrf(request, form, None)
    answers = _answers(form)
    typed = {f"{k}.{f}": v for k, a in answers.items() for f, v in a.items()}
    try:
        _, provider, nonce = _open(request, token)
        given = await upload(form, "certificat", 64 * 1024)
        if given is None:
            raise UserError("Joignez votre certificat (.p12 ou .pfx) ; si vous n'en avez pas, créez-en un ci-dessous.")
        identity = signing.load_identity(given[1], text(form, "mot_de_passe"))
        web = web_of(request)
        profile = load_profile(web.store)
        document = {
            "version": questionnaire.definition()["version"],
            "pharmacie": profile.pharmacy.name if profile else "Pharmacie",
            "prestataire": _provider_name(web.store, provider),
            "nonce": nonce,
            "engagement": questionnaire.definition()["engagement"],
        }
        pdf = await run_in_threadpool(questionnaire.sign, document, answers, identity)
        done = await run_in_threadpool(
            questionnaire.import_signed, web.store, pdf, f"prestataire par lien ({identity.subject})"[:64], "lien"
        )
        await run_in_threadpool(web.pharmacy.reassess)
    except _Refused as exc:
        return _refused(request, exc.message)
    except UserError as exc:
        return _provider_page(request, token, 400, error=exc.message, typed=typed)
    return web_of(request).page(request, "questionnaire_done.html", None, done=done)


def _provider_name(store: Store, provider: int) -> str:
    entry = RegisterBook(store).entry("prestataires", provider)
    return str(entry.data["nom"]) if entry else f"n° {provider}"


# -- the pharmacy's side -------------------------------------------------------------------------
@router.post("/questionnaires/demander/{number:id}")
async def ask(request: Request, number: int) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    try:
        days = int(text(form, "jours") or questionnaire.LINK_DAYS)
        made = await run_in_threadpool(questionnaire.request, web.store, number, user.username, days)
    except ValueError:
        return web.page(request, "error.html", user, status=400, title="Demande refusée", text="Durée invalide.")
    except UserError as exc:
        return web.page(request, "error.html", user, status=400, title="Demande refusée", text=exc.message)
    link = str(request.url_for("provider_form", token=made.token))
    return web.page(request, "questionnaire_asked.html", user, made=made, link=link)


@router.post("/questionnaires/importer")
async def import_pdf(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    try:
        given = await upload(form, "pdf", signing.MAX_PDF_BYTES)
        if given is None:
            raise UserError("Choisissez le PDF signé renvoyé par le prestataire.")
        done = await run_in_threadpool(questionnaire.import_signed, web.store, given[1], user.username, "fichier")
        await run_in_threadpool(web.pharmacy.reassess)  # CTR-01 reads the questionnaires
    except UserError as exc:
        return web.page(
            request, "questionnaires.html", user, status=400, error=exc.message, received=_received(web.store)
        )
    return web.page(request, "questionnaires.html", user, done=done, received=_received(web.store))


@router.get("/questionnaires")
def received(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return web.page(request, "questionnaires.html", user, received=_received(web.store))


@router.get("/questionnaires/{qid:id}.pdf")
def download(request: Request, qid: int) -> Response:
    web = web_of(request)
    web.require_user(request)
    pdf = questionnaire.stored_pdf(web.store, qid)
    if pdf is None:
        raise HTTPException(404)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="questionnaire-{qid}.pdf"'},
    )


def _received(store: Store) -> list[dict[str, Any]]:
    rows = questionnaire.latest(store)
    for row in rows:
        row["provider_name"] = _provider_name(store, row["provider"])
    return rows
