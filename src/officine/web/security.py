"""Sign-in, CSRF, roles and HTTP hardening for the dashboard.

Sessions live in the database (the cookie holds a random token), so signing out really ends
them. Every form carries a CSRF token: the session's own once signed in, a double-submit
cookie before (sign-in and first-run forms). Cross-origin form posts are refused outright; the
Host header itself was checked before (web.limits.AllowedHosts), so "same origin" means this
server under a name it was started for."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.datastructures import FormData, MutableHeaders

from officine.services.accounts import SignedIn

SESSION_COOKIE = "officine_session"
ANON_CSRF_COOKIE = "officine_csrf"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make browsers send Origin: null
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), usb=()",
}


class Redirect(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class CsrfRejected(Exception):
    """A form without the right token, or posted from another site."""


class NotAllowed(Exception):
    """The signed-in account's role does not allow this page or action."""

    def __init__(self, user: SignedIn) -> None:
        super().__init__(user.role)
        self.user = user


# What each role may do. Reading is open to every account, except the team page. Writing needs
# the titulaire unless listed here: a new form is the administrator's until someone decides.
READ_RULES: tuple[tuple[re.Pattern[str], str], ...] = ((re.compile(r"/equipe(/.*)?"), "titulaire"),)
WRITE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/deconnexion|/compte"), "lecture"),  # one's own session and password
    (re.compile(r"/pratique/[^/]+/reponse"), "equipe"),
    (re.compile(r"/postes/(auditer|importer)"), "equipe"),
    (re.compile(r"/sauvegardes/lancer"), "equipe"),  # a backup or a restore drill now
    (re.compile(r"/incident(/.*)?"), "equipe"),  # anyone on the team starts the reflexes of an attack
    (re.compile(r"/mots-de-passe/(tester|generer)"), "lecture"),  # judges or proposes, records nothing
    (re.compile(r"/courriel/analyser"), "lecture"),  # anyone signed in may check a suspicious e-mail
    # A destroyed disk, a lost card, a breach: noted by whoever on the team saw it happen.
    (re.compile(r"/registres/(destructions|cartes|violations)(/[0-9]+)?"), "equipe"),
)


def required_role(method: str, path: str) -> str:
    reading = method in ("GET", "HEAD")
    for pattern, role in READ_RULES if reading else WRITE_RULES:
        if pattern.fullmatch(path):
            return role
    return "lecture" if reading else "titulaire"


class SecurityHeaders:
    """The headers of every response, static files and error pages included."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


def set_cookie(response: Response, name: str, value: str, secure: bool, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="strict")


def client_of(request: Request) -> str:
    return request.client.host if request.client else "inconnu"


def check_origin(request: Request) -> None:
    """Browsers send Origin on POST: it must be this very site."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfRejected  # another site, or "null" (an opaque origin)


def check_csrf(request: Request, form: FormData, user: SignedIn | None) -> None:
    check_origin(request)
    sent = form.get("csrf")
    expected = user.csrf_token if user is not None else request.cookies.get(ANON_CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfRejected


def anon_csrf_token(request: Request) -> str:
    """The double-submit token for forms shown before sign-in (set by the handler's response)."""
    return request.cookies.get(ANON_CSRF_COOKIE) or secrets.token_urlsafe(32)
