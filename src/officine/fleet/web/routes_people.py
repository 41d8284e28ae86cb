"""First run (the provider's organisation and administrator, with the setup code), sign-in and
sign-out, one's own password, and the organisation's people. The dashboard's accounts code
(argon2id, lock-out per account, slow-down per client, sessions) over the fleet's schema."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from officine.errors import UserError
from officine.fleet import directory
from officine.fleet.web.app import console_of
from officine.services import accounts
from officine.services.accounts import LockedOut, WrongSetupCode
from officine.web.forms import read_form, text
from officine.web.security import (
    ANON_CSRF_COOKIE,
    SESSION_COOKIE,
    anon_csrf_token,
    check_csrf,
    client_of,
    set_cookie,
)

router = APIRouter()


def _anon_page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    console = console_of(request)
    token = anon_csrf_token(request)
    response = console.page(request, name, None, status=status, csrf=token, **context)
    set_cookie(response, ANON_CSRF_COOKIE, token, console.secure_cookies)
    return response


def _signed_in(request: Request, token: str, to: str) -> Response:
    console = console_of(request)
    response = RedirectResponse(to, status_code=303)
    life = int(accounts.SESSION_LIFETIME.total_seconds())
    set_cookie(response, SESSION_COOKIE, token, console.secure_cookies, max_age=life)
    response.delete_cookie(ANON_CSRF_COOKIE, path="/")
    return response


@router.get("/installation")
def installation(request: Request) -> Response:
    if accounts.has_users(console_of(request).fleet.home):
        return RedirectResponse("/connexion", status_code=303)
    return _anon_page(request, "console_installation.html")


@router.post("/installation")
async def install(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    check_csrf(request, form, None)
    if accounts.has_users(console.fleet.home):
        return RedirectResponse("/connexion", status_code=303)
    client = client_of(request)
    await asyncio.sleep(accounts.client_delay(console.fleet.home, client))
    values = {k: text(form, k) for k in ("setup_code", "organisation", "username", "password", "confirm")}
    try:
        await run_in_threadpool(
            directory.install,
            console.fleet,
            values["setup_code"],
            values["organisation"],
            values["username"],
            values["password"],
            values["confirm"],
            client,
        )
        token = await run_in_threadpool(
            accounts.sign_in, console.fleet.home, values["username"], values["password"], client
        )
    except WrongSetupCode as exc:
        return _anon_page(request, "console_installation.html", status=403, error=exc.message, values=values)
    except UserError as exc:
        return _anon_page(request, "console_installation.html", status=400, error=exc.message, values=values)
    return _signed_in(request, token, "/?ok=welcome")


@router.get("/connexion")
def login_page(request: Request) -> Response:
    console = console_of(request)
    if not accounts.has_users(console.fleet.home):
        return RedirectResponse("/installation", status_code=303)
    if console.user(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _anon_page(request, "console_login.html")


@router.post("/connexion")
async def login(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    check_csrf(request, form, None)
    client = client_of(request)
    await asyncio.sleep(accounts.client_delay(console.fleet.home, client))
    username = text(form, "username")
    try:
        token = await run_in_threadpool(accounts.sign_in, console.fleet.home, username, text(form, "password"), client)
    except LockedOut as exc:
        return _anon_page(request, "console_login.html", status=429, error=exc.message, username=username)
    except UserError as exc:
        return _anon_page(request, "console_login.html", status=401, error=exc.message, username=username)
    return _signed_in(request, token, "/")


@router.post("/deconnexion")
async def logout(request: Request) -> Response:
    console = console_of(request)
    access = console.access(request)
    await read_form(request, access.user)
    accounts.sign_out(console.fleet.home, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/connexion?ok=signed_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/compte")
def account(request: Request) -> Response:
    console = console_of(request)
    return console.page(request, "console_account.html", console.access(request))


@router.post("/compte")
async def change_password(request: Request) -> Response:
    console = console_of(request)
    access = console.access(request)
    form = await read_form(request, access.user)
    try:
        await run_in_threadpool(
            accounts.change_password,
            console.fleet.home,
            access.user.user_id,
            text(form, "current"),
            text(form, "password"),
            text(form, "confirm"),
            request.cookies.get(SESSION_COOKIE),
        )
    except UserError as exc:
        return console.page(request, "console_account.html", access, status=400, error=exc.message)
    return RedirectResponse(
        "/?ok=password_chosen" if access.user.must_change_password else "/compte?ok=password_changed", 303
    )


@router.get("/personnes")
def people(request: Request) -> Response:
    console = console_of(request)
    access = console.access(request)
    return _people_page(request, access)


def _people_page(request: Request, access: directory.Access, status: int = 200, **context: object) -> Response:
    console = console_of(request)
    return console.page(
        request,
        "console_people.html",
        access,
        status=status,
        people=directory.people(console.fleet, access),
        pharmacies=directory.pharmacies(console.fleet, access),
        **context,
    )


@router.post("/personnes")
async def add_person(request: Request) -> Response:
    console = console_of(request)
    access = console.access(request)
    form = await read_form(request, access.user)
    raw = text(form, "pharmacy")
    values = {k: text(form, k) for k in ("username", "full_name", "role", "pharmacy")}
    try:
        temporary = await run_in_threadpool(
            directory.add_person,
            console.fleet,
            access,
            values["username"],
            values["full_name"],
            values["role"],
            int(raw) if raw.isdigit() and len(raw) <= 18 else None,
        )
    except UserError as exc:
        return _people_page(request, access, status=400, error=exc.message, values=values)
    return _people_page(request, access, created=values["username"].strip(), temporary=temporary)
