"""The dashboard application: wiring, rendering and error pages. Routes live in routes_*.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from officine import __version__, dates
from officine.catalogue.loader import Messages
from officine.services import accounts
from officine.services.accounts import SignedIn
from officine.services.pharmacy import Pharmacy
from officine.store import Store
from officine.web.jobs import Jobs
from officine.web.security import HEADERS, SESSION_COOKIE, CsrfRejected, Redirect, security_headers
from officine.web.views import inline_markdown, with_links
from officine.yamlio import load_yaml

log = logging.getLogger(__name__)


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
        user = self.user(request)
        if user is None:
            raise Redirect("/installation" if not accounts.has_users(self.store) else "/connexion")
        return user

    def page(
        self, request: Request, name: str, user: SignedIn | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        notice = self.ui["notices"].get(request.query_params.get("ok", ""))
        return self.templates.TemplateResponse(
            request,
            name,
            {"user": user, "ui": self.ui, "verdicts": self.messages.verdicts, "notice": notice, **context},
            status_code=status,
        )


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def _size(value: int | None) -> str:
    n = float(value or 0)
    for unit in ("octets", "ko", "Mo", "Go"):
        if n < 1024 or unit == "Go":
            return f"{n:.0f} {unit}" if unit in ("octets", "ko") else f"{n:.1f} {unit}".replace(".", ",")
        n /= 1024
    return f"{n} Go"


def create_app(store_url: str | None = None, *, secure_cookies: bool = True) -> FastAPI:
    from officine.web import (  # noqa: PLC0415 - they import this module
        routes_account,
        routes_backups,
        routes_incident,
        routes_pages,
        routes_workstations,
    )

    store = Store(store_url)
    pharmacy = Pharmacy(store)
    templates = Jinja2Templates(directory=str(resources.files("officine.web") / "templates"))
    templates.env.filters["size"] = _size
    templates.env.filters["day"] = dates.day
    templates.env.filters["moment"] = dates.moment
    templates.env.filters["md"] = inline_markdown
    templates.env.filters["links"] = with_links
    templates.env.globals["version"] = __version__
    ui = load_yaml(resources.files("officine.web").joinpath("ui.yaml").read_text(encoding="utf-8"))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="officine-cyber")
    app.state.web = Web(store, pharmacy, Jobs(pharmacy), templates, ui, pharmacy.knowledge.messages, secure_cookies)
    app.middleware("http")(security_headers)
    app.mount("/static", StaticFiles(directory=str(resources.files("officine.web") / "static")), name="static")
    app.include_router(routes_account.router)
    app.include_router(routes_pages.router)
    app.include_router(routes_workstations.router)
    app.include_router(routes_backups.router)
    app.include_router(routes_incident.router)

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

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        key = {404: "not_found", 405: "not_allowed"}.get(exc.status_code, "refused")
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
    database comes from OFFICINE_DATABASE_URL, set by the command that started them."""
    return create_app(None)
