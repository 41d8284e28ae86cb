"""The agents' API: enrolment with a one-time token, then signed messages. JSON in and out;
refusals carry a code and a French explanation, and are recorded (fleet.refusals)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from officine.errors import UserError
from officine.fleet import agents, ingest
from officine.fleet.signing import public_key_of
from officine.fleet.web.app import console_of
from officine.jsonio import JsonError, load_json, scrub_surrogates
from officine.web.security import client_of

router = APIRouter(prefix="/api/v1")
log = logging.getLogger(__name__)
UNAVAILABLE = (
    "Le serveur du parc ne peut rien enregistrer pour l'instant (sa base de données ne répond pas). "
    "Rien n'est perdu : le poste garde son envoi et réessaiera."
)


def _refusal(status: int, code: str, message: str) -> Response:
    return JSONResponse({"code": code, "erreur": scrub_surrogates(message)}, status_code=status)


@router.post("/inscription")
async def enrol(request: Request) -> Response:
    console = console_of(request)
    raw = await request.body()
    try:
        data = load_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, JsonError):
        data = None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("jeton", "cle_publique", "poste")):
        return _refusal(400, "demande_illisible", "Demande d'inscription illisible.")
    key = public_key_of(data["cle_publique"])
    if key is None:
        return _refusal(400, "cle_illisible", "Clé publique illisible (Ed25519 attendue).")
    try:
        enrolled = await run_in_threadpool(
            agents.enrol, console.fleet, data["jeton"][:200], key, data["poste"][:255], client_of(request)
        )
    except agents.EnrolmentRefused as exc:
        return _refusal(403, "jeton_refuse", exc.message)
    except (UserError, SQLAlchemyError) as exc:
        log.error("enrolment not recorded: %s", getattr(exc, "message", exc))
        return _refusal(503, "indisponible", UNAVAILABLE)
    return JSONResponse({"agent": enrolled.agent, "pharmacie": enrolled.tenant, "nom": enrolled.pharmacy})


@router.post("/messages")
async def message(request: Request) -> Response:
    console = console_of(request)
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        receipt = await run_in_threadpool(ingest.receive, console.fleet, headers, body, client_of(request))
    except ingest.Refused as exc:
        return _refusal(exc.status, exc.code, exc.message)
    except (UserError, SQLAlchemyError) as exc:  # the database went away: nothing was recorded
        log.error("message not recorded: %s", getattr(exc, "message", exc))
        return _refusal(503, "indisponible", UNAVAILABLE)
    return JSONResponse(
        {"recu": True, "deja": receipt.already, "instantane": receipt.snapshot_id, "evenements": receipt.events}
    )
