"""Sign-in, CSRF and HTTP hardening for the dashboard.

Sessions live in the database (the cookie holds a random token), so signing out really ends
them. Every form carries a CSRF token: the session's own once signed in, a double-submit
cookie before (sign-in and first-run forms). Cross-origin form posts are refused outright."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.datastructures import FormData

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


async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


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
