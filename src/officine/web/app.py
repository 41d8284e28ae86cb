"""The dashboard application: wiring, rendering and error pages. Routes live in routes_*.py."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from officine import __version__, dates
from officine.backup import fr as backup_fr
from officine.catalogue.loader import Messages
from officine.report.safe import page_text
from officine.services import accounts, sentinel
from officine.services.accounts import SignedIn
from officine.services.pharmacy import Pharmacy
from officine.store import Store
from officine.web.jobs import Jobs
from officine.web.limits import LOOPBACK_NAMES, AllowedHosts, BodyLimit, HeadAsGet
from officine.web.security import (
    HEADERS,
    SESSION_COOKIE,
    CsrfRejected,
    NotAllowed,
    Redirect,
    SecurityHeaders,
    required_role,
)
from officine.web.views import inline_markdown, with_links
from officine.yamlio import load_yaml

log = logging.getLogger(__name__)
ENV_ALLOWED_HOSTS = "OFFICINE_ALLOWED_HOSTS"


@dataclass
class Web:
    """What every request handler needs, built once per application."""

    store: Store
    pharmacy: Pharmacy
    jobs: Jobs
    templates: Jinja2Templates
    ui: dict[str, Any]
    messages: Messages
    secure_cookies: bool

    def user(self, request: Request) -> SignedIn | None:
        return accounts.session_for(self.store, request.cookies.get(SESSION_COOKIE))

    def require_user(self, request: Request) -> SignedIn:
        """The signed-in account, allowed by its role to do what this request asks."""
        user = self.user(request)
        if user is None:
            raise Redirect("/installation" if not accounts.has_users(self.store) else "/connexion")
        path = request.url.path
        if user.must_change_password and path not in ("/compte", "/deconnexion"):
            raise Redirect("/compte?ok=choose_password")  # a temporary password given by the titulaire
        if not user.can(required_role(request.method, path)):
            raise NotAllowed(user)
        return user

    def page(
        self, request: Request, name: str, user: SignedIn | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        notice = self.ui["notices"].get(request.query_params.get("ok", ""))
        # The sentinel's red banner follows a signed-in person on every page until acknowledged.
        alarms = sentinel.banner_alarms(self.store) if user is not None else []
        return self.templates.TemplateResponse(
            request,
            name,
            {
                "user": user,
                "ui": self.ui,
                "verdicts": self.messages.verdicts,
                "notice": notice,
                "sentinel_alarms": alarms,
                **context,
            },
            status_code=status,
        )


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def _local(value: Any, fmt: str = "%d/%m/%Y à %H:%M") -> str:
    if value is None or value == "":
        return "—"
    moment = dates.parse(value) if isinstance(value, str) else value
    return f"{dates.paris(moment):{fmt}}" if isinstance(moment, datetime) else f"{moment:{fmt}}"


def _size(value: int | None) -> str:
    return backup_fr.size(int(value or 0))  # the same words as the terminal and the verdicts


def create_app(
    store_url: str | None = None, *, secure_cookies: bool = True, allowed_hosts: Sequence[str] | None = None
) -> FastAPI:
    """The dashboard. `allowed_hosts`: the names it answers to (default: this machine's loopback
    names, any port); `officine serve` derives them from the address it listens on."""
    from officine.web import (  # noqa: PLC0415 - they import this module
        routes_account,
        routes_backups,
        routes_incident,
        routes_mail,
        routes_pages,
        routes_passwords,
        routes_questionnaire,
        routes_registers,
        routes_team,
        routes_workstations,
    )

    store = Store(store_url)
    accounts.ensure_setup_code(store)  # before the first request: the terminal shows the same one
    pharmacy = Pharmacy(store)
    templates = Jinja2Templates(directory=str(resources.files("officine.web") / "templates"))
    templates.env.finalize = page_text  # a hostname or a name from a snapshot cannot reorder the page
    templates.env.filters["size"] = _size
    templates.env.filters["day"] = dates.day
    templates.env.filters["local"] = _local  # older templates: a chosen format, in Paris time
    templates.env.filters["moment"] = dates.moment
    templates.env.filters["md"] = inline_markdown
    templates.env.filters["links"] = with_links
    templates.env.globals["version"] = __version__
    ui = load_yaml(resources.files("officine.web").joinpath("ui.yaml").read_text(encoding="utf-8"))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="officine-cyber")
    app.state.web = Web(store, pharmacy, Jobs(pharmacy), templates, ui, pharmacy.knowledge.messages, secure_cookies)

    def plain_error(status: int, key: str) -> bytes:
        """An error page for the middlewares, which answer before any route (no session)."""
        text = ui["errors"][key]
        page = templates.get_template("error.html").render(
            {"user": None, "ui": ui, "title": text["title"], "text": text["text"]}
        )
        return page.encode()

    # Outermost last: the Host is checked first, then the method, then the size of the body.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, error_page=plain_error)
    app.add_middleware(HeadAsGet)
    app.add_middleware(AllowedHosts, names=allowed_hosts or LOOPBACK_NAMES, error_page=plain_error)
    app.mount("/static", StaticFiles(directory=str(resources.files("officine.web") / "static")), name="static")
    app.include_router(routes_account.router)
    app.include_router(routes_team.router)
    app.include_router(routes_passwords.router)
    app.include_router(routes_pages.router)
    app.include_router(routes_mail.router)
    app.include_router(routes_workstations.router)
    app.include_router(routes_backups.router)
    app.include_router(routes_incident.router)
    app.include_router(routes_registers.router)
    app.include_router(routes_questionnaire.router)

    @app.exception_handler(Redirect)
    async def _redirect(request: Request, exc: Redirect) -> Response:
        return RedirectResponse(exc.url, status_code=303)

    def error_page(request: Request, key: str, status: int, signed_in: bool = True) -> Response:
        web = web_of(request)
        text = web.ui["errors"][key]
        user = web.user(request) if signed_in else None
        response = web.page(request, "error.html", user, status=status, title=text["title"], text=text["text"])
        for name, value in HEADERS.items():  # also on responses the middleware does not see (500)
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, exc: CsrfRejected) -> Response:
        return error_page(request, "csrf", 403, signed_in=False)

    @app.exception_handler(NotAllowed)
    async def _not_allowed(request: Request, exc: NotAllowed) -> Response:
        return error_page(request, "forbidden", 403)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> Response:
        # An id too large for the database (SQLite raises before querying): no such thing.
        reading = request.method in ("GET", "HEAD")
        return error_page(request, "not_found" if reading else "invalid", 404 if reading else 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        key = {404: "not_found", 405: "not_allowed", 413: "too_large"}.get(exc.status_code, "refused")
        return error_page(request, key, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_page(request, "invalid", 400)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)  # details for the IT provider, not the page
        return error_page(request, "internal", 500, signed_in=False)

    return app


def create_app_from_environment() -> FastAPI:
    """The app of one server process among several (`officine serve --processus N`): the
    database and the names it answers to come from the environment set by the command that
    started them (OFFICINE_DATABASE_URL, OFFICINE_ALLOWED_HOSTS)."""
    names = os.environ.get(ENV_ALLOWED_HOSTS)
    return create_app(None, allowed_hosts=json.loads(names) if names else None)
