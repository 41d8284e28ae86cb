"""What a request may be, checked before any route runs (ASGI middlewares, outermost first):

- `AllowedHosts`: the `Host` header names this server. A web page using DNS rebinding reaches
  127.0.0.1 under its own name; the browser then treats the dashboard as that page's origin, so
  Origin checks alone prove nothing. Only the names the server was started for are served.
- `HeadAsGet`: HEAD is answered as GET, without the body.
- `BodyLimit`: a body larger than its route allows is refused (413) before it is parsed or
  spooled to disk, whether announced by Content-Length or streamed in chunks.

Ids in paths use the `id` convertor: digits that fit a database integer, anything else is 404."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.convertors import Convertor, register_url_convertor

from officine.mail import MAX_MESSAGE_BYTES
from officine.services.responses import MAX_PROOF_BYTES
from officine.web.security import HEADERS

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
# Renders a French error page for (status, key in ui.yaml errors) as HTML bytes.
ErrorPage = Callable[[int, str], bytes]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
FORM_BYTES = 64 * 1024  # sign-in, settings, answers without a file: a few kilobytes at most
MULTIPART_MARGIN = 256 * 1024  # the form fields and boundaries around an uploaded file
# The largest snapshot the page accepts. Real ones weigh a few megabytes; parsing one takes
# several times its size in memory (bench/import_memory.py), so the page stays well below the
# 256 MB that `officine audit --from` accepts on the machine itself.
SNAPSHOT_IMPORT_BYTES = 16 * 1024 * 1024
ROUTE_BODY_LIMITS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"/pratique/[^/]+/reponse"), MAX_PROOF_BYTES + MULTIPART_MARGIN),
    (re.compile(r"/postes/importer"), SNAPSHOT_IMPORT_BYTES + MULTIPART_MARGIN),
    (re.compile(r"/courriel/analyser"), MAX_MESSAGE_BYTES + MULTIPART_MARGIN),  # a suspicious e-mail (50 MB and more)
)
MAX_DB_ID = 10**18 - 1  # below 2**63: any database integer column holds it


def body_limit(path: str) -> int:
    for pattern, limit in ROUTE_BODY_LIMITS:
        if pattern.fullmatch(path):
            return limit
    return FORM_BYTES


class IdConvertor(Convertor[int]):
    """A database id in a path: 1 to 18 digits. A longer one matches no route: 404."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(int(value))


register_url_convertor("id", IdConvertor())


HOST = re.compile(r"(?P<name>[a-z0-9._-]+)(?::[0-9]{1,5})?")
HOST_V6 = re.compile(r"\[(?P<name>[0-9a-f:.]+)\](?::[0-9]{1,5})?")


def host_name(value: str) -> str | None:
    """The name in a Host header ("[::1]:8421" -> "::1"), lower-cased, an IP address in its
    short form; None when malformed."""
    value = value.strip().lower()
    match = HOST_V6.fullmatch(value) or HOST.fullmatch(value)
    return canonical_name(match.group("name")) if match else None


def canonical_name(name: str) -> str:
    """One spelling per name: lower case, brackets off, IPv6 addresses compressed."""
    name = name.strip().strip("[]").lower()
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


class AllowedHosts:
    def __init__(self, app: App, names: Iterable[str], error_page: ErrorPage) -> None:
        self.app = app
        self.names = frozenset(canonical_name(n) for n in names)
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hosts = [v for k, v in scope["headers"] if k == b"host"]
            name = host_name(hosts[0].decode("latin-1")) if len(hosts) == 1 else None
            if name not in self.names:
                await _answer(send, 421, self.error_page(421, "wrong_host"))
                return
        await self.app(scope, receive, send)


class HeadAsGet:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class BodyTooLarge(Exception):
    """Raised inside `receive` when a streamed body passes its route's limit."""


class BodyLimit:
    """`limits`: the largest body of a path (the dashboard's routes by default)."""

    def __init__(self, app: App, error_page: ErrorPage, limits: Callable[[str], int] = body_limit) -> None:
        self.app = app
        self.error_page = error_page
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits(scope["path"])
        lengths = [v for k, v in scope["headers"] if k == b"content-length"]
        if lengths and (len(lengths) > 1 or not lengths[0].isdigit() or int(lengths[0]) > limit):
            await _answer(send, 413, self.error_page(413, "too_large"), close=True)
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await _answer(send, 413, self.error_page(413, "too_large"), close=True)


async def _answer(send: Send, status: int, body: bytes, close: bool = False) -> None:
    headers = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
    headers += [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if close:  # the rest of the body is not read: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
