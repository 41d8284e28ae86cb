"""The team page: the titulaire adds colleagues (each with their own sign-in and a role), changes
a role, gives a new temporary password, disables or re-enables an account."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from officine.errors import UserError
from officine.services import team
from officine.services.accounts import SignedIn
from officine.web.app import Web, web_of
from officine.web.security import check_csrf

router = APIRouter()


def _page(web: Web, request: Request, user: SignedIn, status: int = 200, **context: object) -> Response:
    return web.page(request, "team.html", user, status=status, members=team.members(web.store), **context)


async def _form(request: Request) -> tuple[Web, SignedIn, FormData]:
    web = web_of(request)
    user = web.require_user(request)
    form = await request.form()
    check_csrf(request, form, user)
    return web, user, form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@router.get("/equipe")
def team_page(request: Request) -> Response:
    web = web_of(request)
    return _page(web, request, web.require_user(request))


@router.post("/equipe")
async def add_member(request: Request) -> Response:
    web, user, form = await _form(request)
    typed = {k: _text(form, k) for k in ("username", "full_name", "role")}
    try:
        password = await run_in_threadpool(
            team.add_member, web.store, user, typed["username"], typed["full_name"], typed["role"]
        )
    except UserError as exc:
        return _page(web, request, user, status=400, error=exc.message, typed=typed)
    # Shown once, on this page only: it is never stored in clear nor put in an address.
    given = {"username": typed["username"].strip(), "password": password}
    return _page(web, request, user, notice=web.ui["notices"]["member_added"], given=given)


@router.post("/equipe/{user_id:id}/mot-de-passe")
async def new_password(request: Request, user_id: int) -> Response:
    web, user, _ = await _form(request)
    try:
        username, password = await run_in_threadpool(team.new_temporary_password, web.store, user, user_id)
    except UserError as exc:
        return _page(web, request, user, status=400, error=exc.message)
    given = {"username": username, "password": password}
    return _page(web, request, user, notice=web.ui["notices"]["member_password"], given=given)


async def _change(request: Request, user_id: int, action: Callable[..., None], notice: str, *fields: str) -> Response:
    web, user, form = await _form(request)
    try:
        action(web.store, user, user_id, *(_text(form, f) for f in fields))
    except UserError as exc:
        return _page(web, request, user, status=400, error=exc.message)
    return RedirectResponse(f"/equipe?ok={notice}", 303)


@router.post("/equipe/{user_id:id}/role")
async def set_role(request: Request, user_id: int) -> Response:
    return await _change(request, user_id, team.set_role, "member_role", "role")


@router.post("/equipe/{user_id:id}/desactiver")
async def disable(request: Request, user_id: int) -> Response:
    return await _change(request, user_id, team.disable, "member_disabled")


@router.post("/equipe/{user_id:id}/reactiver")
async def enable(request: Request, user_id: int) -> Response:
    return await _change(request, user_id, team.enable, "member_enabled")
