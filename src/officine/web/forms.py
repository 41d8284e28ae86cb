"""Reading a submitted form: the CSRF check first, then plain text fields and bounded uploads."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from officine.errors import UserError
from officine.services.accounts import SignedIn
from officine.web.security import check_csrf

MAX_IMPORT_BYTES = 64 * 1024 * 1024


async def read_form(request: Request, user: SignedIn) -> FormData:
    form = await request.form(max_part_size=MAX_IMPORT_BYTES)
    check_csrf(request, form, user)
    return form


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def upload(form: FormData, name: str, limit: int) -> tuple[str, bytes] | None:
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(limit + 1)
    if len(data) > limit:
        raise UserError(
            f"Le fichier {value.filename} est trop gros ({limit // (1024 * 1024)} Mo au plus). Rien n'a été enregistré."
        )
    return value.filename, data
