"""The registers' pages: the list of registers, each register with its entries and a form to add
one, each entry with its form and its history, and the exports. A refused form comes back with
every refused field marked in French and what was typed kept."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from officine.errors import UserError
from officine.registers import schemas, service
from officine.registers.book import RegisterBook
from officine.registers.exports import FORMATS
from officine.services.accounts import SignedIn
from officine.web.app import Web, web_of
from officine.web.forms import read_form
from officine.web.security import check_csrf

router = APIRouter()
MEDIA = {
    "pdf": "application/pdf",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
NOTICES = {
    "ajoute": "Entrée enregistrée.",
    "modifie": "Modification enregistrée : la version précédente reste dans l'historique.",
    "relu": "Entrée relue et validée.",
    "retire": "Entrée retirée : elle reste dans l'historique et peut être rétablie.",
    "retabli": "Entrée rétablie.",
}


def _register(name: str) -> str:
    if name not in schemas.PUBLIC:
        raise HTTPException(404)
    return name


def _raw(register: str, form: FormData) -> dict[str, Any]:
    """The submitted fields as the service reads them: unchecked boxes say "non", several ticked
    choices make a list, empty optional fields stay empty."""
    raw: dict[str, Any] = {}
    for spec in service.form_fields(register):
        if spec.kind == "bool":
            raw[spec.name] = "oui" if form.get(spec.name) else "non"
        elif spec.kind == "multi":
            raw[spec.name] = [v for v in form.getlist(spec.name) if isinstance(v, str)]
        else:
            value = form.get(spec.name)
            raw[spec.name] = value if isinstance(value, str) else ""
    if register == "violations":  # the model's optional fields: an empty text is no value
        raw = {k: v for k, v in raw.items() if v != "" or k in ("nature", "decouverte")}
    return raw


def _typed(register: str, raw: dict[str, Any]) -> dict[str, Any]:
    """What the form shows back: lists stay lists, booleans as ticked boxes."""
    return {k: (v == "oui" if isinstance(v, str) and k in _bools(register) else v) for k, v in raw.items()}


def _bools(register: str) -> set[str]:
    return {f.name for f in service.form_fields(register) if f.kind == "bool"}


def _list_page(
    web: Web, request: Request, user: SignedIn, register: str, status: int = 200, **context: Any
) -> Response:
    service.open_register(web.store, register)  # the processing register is pre-filled at its first opening
    words = schemas.words()["registers"][register]
    return web.page(
        request,
        "register.html",
        user,
        status=status,
        register=register,
        words=words,
        data=service.table(web.store, register, include_withdrawn=True),
        fields=service.form_fields(register),
        formats=FORMATS if register != "violations" else ("pdf", "ods", "xlsx"),
        registers=_index(),
        reg_notice=NOTICES.get(request.query_params.get("fait", "")),
        **context,
    )


def _index() -> list[tuple[str, dict[str, Any]]]:
    return [(name, schemas.words()["registers"][name]) for name in schemas.PUBLIC]


@router.get("/registres")
def registers_page(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return web.page(request, "registers.html", user, registers=_index())


@router.get("/registres/{name}")
def register_page(request: Request, name: str) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return _list_page(web, request, user, _register(name))


@router.post("/registres/{name}")
async def add_entry(request: Request, name: str) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    register = _register(name)
    raw = _raw(register, form)
    try:
        await run_in_threadpool(service.add, web.store, register, raw, user.username)
        await run_in_threadpool(web.pharmacy.reassess)  # the verdicts that read this register
    except UserError as exc:
        errors = service.field_errors(register, raw)
        return _list_page(
            web, request, user, register, 400, error=exc.message, typed=_typed(register, raw), errors=errors
        )
    return RedirectResponse(f"/registres/{register}?fait=ajoute", 303)


@router.get("/registres/{name}/export.{fmt}")
def export(request: Request, name: str, fmt: str) -> Response:
    web = web_of(request)
    web.require_user(request)
    register = _register(name)
    if fmt not in MEDIA or (register == "violations" and fmt == "json"):
        raise HTTPException(404)
    content = service.export(web.store, register, fmt)
    filename = f"registre-{register}.{fmt}"
    return Response(
        content, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _entry_page(
    web: Web, request: Request, user: SignedIn, register: str, number: int, status: int = 200, **context: Any
) -> Response:
    try:
        values, version = service.form_values(register, number, web.store)
    except UserError as exc:
        raise HTTPException(404) from exc
    entry = None if register == "violations" else RegisterBook(web.store).entry(register, number)
    return web.page(
        request,
        "register_entry.html",
        user,
        status=status,
        register=register,
        number=number,
        words=schemas.words()["registers"][register],
        fields=service.form_fields(register),
        values=context.pop("typed", None) or values,
        version=version,
        entry=entry,
        history=service.history(web.store, register, number),
        reg_notice=NOTICES.get(request.query_params.get("fait", "")),
        **context,
    )


@router.get("/registres/{name}/{number:id}")
def entry_page(request: Request, name: str, number: int) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return _entry_page(web, request, user, _register(name), number)


@router.post("/registres/{name}/{number:id}")
async def change_entry(request: Request, name: str, number: int) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await read_form(request, user)
    register = _register(name)
    raw = _raw(register, form)
    try:
        read_version = int(str(form.get("version") or "0"))
        await run_in_threadpool(service.update, web.store, register, number, raw, user.username, read_version)
        await run_in_threadpool(web.pharmacy.reassess)
    except (UserError, ValueError) as exc:
        message = exc.message if isinstance(exc, UserError) else "Formulaire incomplet : rechargez la page."
        errors = service.field_errors(register, raw)
        return _entry_page(
            web, request, user, register, number, 400, error=message, typed=_typed(register, raw), errors=errors
        )
    return RedirectResponse(f"/registres/{register}/{number}?fait=modifie", 303)


@router.post("/registres/{name}/{number:id}/{action}")
async def entry_action(request: Request, name: str, number: int, action: str) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await request.form()
    check_csrf(request, form, user)
    register = _register(name)
    book = RegisterBook(web.store)
    methods = {
        "relire": (book.review, "relu"),
        "retirer": (book.withdraw, "retire"),
        "retablir": (book.restore, "retabli"),
    }
    if register == "violations" or action not in methods:
        raise HTTPException(404)
    method, notice = methods[action]
    try:
        read_version = int(str(form.get("version") or "0"))
        await run_in_threadpool(method, register, number, user.username, read_version)
        await run_in_threadpool(web.pharmacy.reassess)
    except (UserError, ValueError) as exc:
        message = exc.message if isinstance(exc, UserError) else "Formulaire incomplet : rechargez la page."
        return _entry_page(web, request, user, register, number, 400, error=message)
    return RedirectResponse(f"/registres/{register}/{number}?fait={notice}", 303)
