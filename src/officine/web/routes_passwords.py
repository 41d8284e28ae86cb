"""The "Mots de passe" page: a tester, a passphrase generator, the last password-manager audit
and how to set KeePassXC up for the team.

The password posted to the tester is judged and dropped: it is never put back in the page (the
field comes back empty), never in an address, a log line, the database or an error (errors
while it is in hand are re-raised without their message: `passwords.safety`). Every signed-in
account may test and generate (web.security.WRITE_RULES)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from officine.errors import UserError
from officine.passwords import generate
from officine.passwords.lists import diceware_words
from officine.passwords.safety import scrubbed
from officine.services import passwords
from officine.services.accounts import SignedIn
from officine.services.team import pharmacy_words
from officine.web.app import Web, web_of
from officine.web.security import check_csrf

router = APIRouter()
CASES = ("1", "2", "3")


def _page(web: Web, request: Request, user: SignedIn, status: int = 200, **context: object) -> Response:
    report = passwords.latest_report(web.store)
    return web.page(request, "passwords.html", user, status=status, audit=report, **context)


async def _form(request: Request) -> tuple[Web, SignedIn, FormData]:
    web = web_of(request)
    user = web.require_user(request)
    form = await request.form()
    check_csrf(request, form, user)
    return web, user, form


def _choice(form: FormData, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) and value in allowed else default


@router.get("/mots-de-passe")
def passwords_page(request: Request) -> Response:
    web = web_of(request)
    return _page(web, request, web.require_user(request))


@router.post("/mots-de-passe/tester")
async def test_password(request: Request) -> Response:
    web, user, form = await _form(request)
    case = int(_choice(form, "case", CASES, "1"))
    typed = form.get("password")
    if not isinstance(typed, str) or not typed:
        return _page(web, request, user, status=400, error="Tapez le mot de passe à tester.", case=case)

    def judge(password: str) -> passwords.Strength:
        with scrubbed("dashboard password test"):
            return passwords.test_password(password, pharmacy_words(web.store), case)

    try:
        result = await run_in_threadpool(judge, typed)
    except UserError as exc:
        return _page(web, request, user, status=400, error=exc.message, case=case)
    finally:
        del typed
    return _page(web, request, user, tested=result.to_json(), case=case)


@router.post("/mots-de-passe/generer")
async def generate_password(request: Request) -> Response:
    web, user, form = await _form(request)
    kind = _choice(form, "kind", ("phrase", "aleatoire"), "phrase")
    try:
        if kind == "phrase":
            words = int(_choice(form, "words", tuple(str(n) for n in range(4, 13)), "7"))
            made = generate.passphrase(words, case=1 if words >= 7 else 2)
        else:
            made = generate.random_password(int(_choice(form, "length", ("16", "20", "24", "32"), "20")))
    except UserError as exc:
        return _page(web, request, user, status=400, error=exc.message)
    return _page(web, request, user, generated=made.to_json(), vocabulary=len(diceware_words()))
