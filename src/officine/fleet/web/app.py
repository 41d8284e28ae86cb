"""The fleet's console and the agents' API: wiring, rendering and error pages.

The same defences as the dashboard (officine.web): the Host allow-list and body limits before
any route, sessions, CSRF, lock-out and headers; the same accounts code over the fleet's
schema. Routes live in routes_*.py; every read goes through an `Access` (fleet.directory)."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.exceptions import HTTPException as StarletteHTTPException

from officine import __version__, dates
from officine.fleet import jobs
from officine.fleet.directory import Access, Forbidden, NotFound, access_of
from officine.fleet.tenancy import Fleet
from officine.fleet.work import HANDLERS, periodic
from officine.services import accounts
from officine.services.accounts import SignedIn
from officine.web.limits import FORM_BYTES, LOOPBACK_NAMES, MULTIPART_MARGIN, AllowedHosts, BodyLimit, HeadAsGet
from officine.web.security import HEADERS, SESSION_COOKIE, CsrfRejected, Redirect, SecurityHeaders
from officine.web.views import inline_markdown
from officine.yamlio import load_yaml

log = logging.getLogger(__name__)
API_BODY = re.compile(r"/api/v1/messages")
IMPORT_BODY = re.compile(r"/pharmacies/[0-9]+/importer")


def body_limit(path: str) -> int:
    from officine.fleet.message import MAX_MESSAGE_BYTES  # noqa: PLC0415
    from officine.web.limits import SNAPSHOT_IMPORT_BYTES  # noqa: PLC0415

    if API_BODY.fullmatch(path):
        return MAX_MESSAGE_BYTES
    if IMPORT_BODY.fullmatch(path):
        return SNAPSHOT_IMPORT_BYTES + MULTIPART_MARGIN
    return FORM_BYTES


@dataclass
class Console:
    """What every request handler of the console needs, built once per application."""

    fleet: Fleet
    templates: Jinja2Templates
    ui: dict[str, Any]
    verdicts: dict[str, str]
    secure_cookies: bool

    def user(self, request: Request) -> SignedIn | None:
        return accounts.session_for(self.fleet.home, request.cookies.get(SESSION_COOKIE))

    def access(self, request: Request) -> Access:
        """The signed-in person and what they may see; the sign-in page otherwise."""
        user = self.user(request)
        if user is None:
            raise Redirect("/installation" if not accounts.has_users(self.fleet.home) else "/connexion")
        if user.must_change_password and request.url.path not in ("/compte", "/deconnexion"):
            raise Redirect("/compte?ok=choose_password")
        found = access_of(self.fleet, user)
        if found is None:
            raise Forbidden("no membership")
        return found

    def page(
        self, request: Request, name: str, access: Access | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        notice = self.ui["notices"].get(request.query_params.get("ok", ""))
        return self.templates.TemplateResponse(
            request,
            name,
            {
                "access": access,
                "user": access.user if access else None,
                "ui": self.ui,
                "verdicts": self.verdicts,
                "notice": notice,
                **context,
            },
            status_code=status,
        )


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def create_fleet_app(
    fleet: Fleet,
    *,
    secure_cookies: bool = True,
    allowed_hosts: Sequence[str] | None = None,
    worker: bool = True,
) -> FastAPI:
    """The console and the agents' API over `fleet`. With `worker`, each server process also
    runs queued jobs (judgements, notifications, sweeps) in a thread."""
    from officine.fleet.web import routes_api, routes_console, routes_people  # noqa: PLC0415

    accounts.ensure_setup_code(fleet.home)
    folders = [
        str(resources.files("officine.fleet.web") / "templates"),
        str(resources.files("officine.web") / "templates"),  # the dashboard's macros and parts
    ]
    templates = Jinja2Templates(directory=folders[0])
    templates.env.loader = ChoiceLoader([FileSystemLoader(f) for f in folders])
    templates.env.filters["moment"] = dates.moment
    templates.env.filters["day"] = dates.day
    templates.env.filters["md"] = inline_markdown
    templates.env.globals["version"] = __version__
    ui = load_yaml(resources.files("officine.fleet.web").joinpath("ui.yaml").read_text(encoding="utf-8"))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        running = jobs.Worker(fleet, HANDLERS, periodic=periodic) if worker else None
        if running is not None:
            running.start()
        try:
            yield
        finally:
            if running is not None:
                running.stop()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="officine-cyber parc", lifespan=lifespan)
    app.state.console = Console(fleet, templates, ui, fleet.knowledge.messages.verdicts, secure_cookies)

    def plain_error(status: int, key: str) -> bytes:
        text = ui["errors"][key]
        return (
            templates.get_template("console_error.html")
            .render({"access": None, "user": None, "ui": ui, "title": text["title"], "text": text["text"]})
            .encode()
        )

    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, error_page=plain_error, limits=body_limit)
    app.add_middleware(HeadAsGet)
    app.add_middleware(AllowedHosts, names=allowed_hosts or LOOPBACK_NAMES, error_page=plain_error)
    app.mount("/static", StaticFiles(directory=str(resources.files("officine.web") / "static")), name="static")
    app.include_router(routes_api.router)
    app.include_router(routes_people.router)
    app.include_router(routes_console.router)

    @app.exception_handler(Redirect)
    async def _redirect(request: Request, exc: Redirect) -> Response:
        return RedirectResponse(exc.url, status_code=303)

    def error_page(request: Request, key: str, status: int) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"code": key, "erreur": ui["errors"][key]["text"]}, status_code=status)
        console = console_of(request)
        text = ui["errors"][key]
        response = console.page(request, "console_error.html", None, status=status, **text)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, exc: CsrfRejected) -> Response:
        return error_page(request, "csrf", 403)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return error_page(request, "not_found", 404)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return error_page(request, "forbidden", 403)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        key = {404: "not_found", 405: "not_allowed", 413: "too_large"}.get(exc.status_code, "refused")
        return error_page(request, key, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_page(request, "invalid", 400)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> Response:
        return error_page(request, "not_found", 404)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_page(request, "internal", 500)

    return app


def create_fleet_app_from_environment() -> FastAPI:
    """The app of one server process among several (`officine fleet serve --processus N`): the
    database and the names come from the environment set by the command that started them
    (OFFICINE_FLEET_DATABASE_URL, OFFICINE_ALLOWED_HOSTS). Each process runs jobs too: the
    queue in PostgreSQL shares them out."""
    from officine.web.app import ENV_ALLOWED_HOSTS  # noqa: PLC0415

    names = os.environ.get(ENV_ALLOWED_HOSTS)
    return create_fleet_app(Fleet(None), allowed_hosts=json.loads(names) if names else None)
