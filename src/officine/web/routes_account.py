"""First run (the administrator account, with the setup code), sign-in and sign-out, one's own
password."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from officine.errors import UserError
from officine.services import accounts, team
from officine.services.accounts import LockedOut, WrongSetupCode
from officine.web.app import web_of
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
    web = web_of(request)
    token = anon_csrf_token(request)
    response = web.page(request, name, None, status=status, csrf=token, **context)
    set_cookie(response, ANON_CSRF_COOKIE, token, web.secure_cookies)
    return response


def _signed_in(request: Request, token: str, to: str) -> Response:
    web = web_of(request)
    response = RedirectResponse(to, status_code=303)
    set_cookie(
        response, SESSION_COOKIE, token, web.secure_cookies, max_age=int(accounts.SESSION_LIFETIME.total_seconds())
    )
    response.delete_cookie(ANON_CSRF_COOKIE, path="/")
    return response


@router.get("/installation")
def installation(request: Request) -> Response:
    web = web_of(request)
    if accounts.has_users(web.store):
        return RedirectResponse("/connexion", status_code=303)
    return _anon_page(request, "installation.html")


@router.post("/installation")
async def create_account(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    check_csrf(request, form, None)
    if accounts.has_users(web.store):
        return RedirectResponse("/connexion", status_code=303)
    client = client_of(request)
    await asyncio.sleep(accounts.client_delay(web.store, client))
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    code = str(form.get("setup_code", ""))
    try:
        await run_in_threadpool(
            accounts.install, web.store, code, username, password, str(form.get("confirm", "")), [], client
        )
        token = await run_in_threadpool(accounts.sign_in, web.store, username, password, client)
    except WrongSetupCode as exc:
        return _anon_page(request, "installation.html", status=403, error=exc.message, username=username)
    except UserError as exc:
        return _anon_page(request, "installation.html", status=400, error=exc.message, username=username, code=code)
    return _signed_in(request, token, "/parametres?ok=welcome")


@router.get("/connexion")
def login_page(request: Request) -> Response:
    web = web_of(request)
    if not accounts.has_users(web.store):
        return RedirectResponse("/installation", status_code=303)
    if web.user(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _anon_page(request, "login.html")


@router.post("/connexion")
async def login(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    check_csrf(request, form, None)
    client = client_of(request)
    # Slowed down per client, never locked out: every browser on this machine is 127.0.0.1.
    await asyncio.sleep(accounts.client_delay(web.store, client))
    username = str(form.get("username", ""))
    try:
        token = await run_in_threadpool(accounts.sign_in, web.store, username, str(form.get("password", "")), client)
    except LockedOut as exc:
        return _anon_page(request, "login.html", status=429, error=exc.message, username=username, locked=True)
    except UserError as exc:
        return _anon_page(request, "login.html", status=401, error=exc.message, username=username)
    return _signed_in(request, token, "/")


@router.post("/deconnexion")
async def logout(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await request.form()
    check_csrf(request, form, user)
    accounts.sign_out(web.store, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/connexion?ok=signed_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/compte")
def account(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    return web.page(request, "account.html", user)


@router.post("/compte")
async def change_password(request: Request) -> Response:
    web = web_of(request)
    user = web.require_user(request)
    form = await request.form()
    check_csrf(request, form, user)
    try:
        await run_in_threadpool(
            accounts.change_password,
            web.store,
            user.user_id,
            str(form.get("current", "")),
            str(form.get("password", "")),
            str(form.get("confirm", "")),
            request.cookies.get(SESSION_COOKIE),
            team.pharmacy_words(web.store),
        )
    except UserError as exc:
        return web.page(request, "account.html", user, status=400, error=exc.message)
    # A temporary password just replaced: the dashboard opens.
    return RedirectResponse("/?ok=password_chosen" if user.must_change_password else "/compte?ok=password_changed", 303)
