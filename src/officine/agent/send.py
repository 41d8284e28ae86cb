"""Talking to the fleet's server: enrolment with a one-time token, then each queued message
signed at the moment it is sent (fresh nonce and time) and removed only once the server said it
has it. A server that cannot be reached, or answers with an error of its own, leaves the queue
as it is for the next run; the order of the queue is the order of sending."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from officine.agent import config as agent_config
from officine.agent.config import AgentConfig
from officine.agent.events import Recorder
from officine.agent.outbox import Outbox
from officine.errors import UserError
from officine.fleet import message, signing
from officine.store import Store

TIMEOUT_S = 60.0
ENROL_PATH = "api/v1/inscription"
MESSAGE_PATH = "api/v1/messages"
# The server's refusals that no later attempt will change for this message: put aside, go on.
UNREADABLE = {"message_illisible", "instantane_refuse"}


def _client(config_or_ca: str | None) -> httpx.Client:
    verify: Any = config_or_ca if config_or_ca else True
    return httpx.Client(timeout=TIMEOUT_S, verify=verify, trust_env=False, follow_redirects=False)


def _server_error(response: httpx.Response) -> str:
    error = _answer(response).get("erreur")
    if isinstance(error, str):
        return error[:500]
    return f"réponse inattendue du serveur (HTTP {response.status_code})"


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The server's JSON answer; empty when it is not one (a proxy's page, another program)."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _code(response: httpx.Response) -> str:
    return str(_answer(response).get("code", ""))


def _unreachable(url: str, exc: Exception) -> UserError:
    if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify failed" in str(exc):
        return UserError(
            f"Le certificat du serveur du parc ({url}) n'est pas reconnu : certificat interne (donnez son autorité "
            "avec --autorite à l'inscription), expiré, ou pas celui de ce nom. Rien n'a été perdu."
        )
    return UserError(
        f"Serveur du parc injoignable ({url}) : {type(exc).__name__}. Vérifiez l'adresse et le réseau ; "
        "rien n'a été perdu."
    )


def enrol(url: str, token: str, ca_file: Path | None = None, hostname: str | None = None) -> AgentConfig:
    """Make this workstation's key pair, send the public key with the token, keep the answer."""
    url = agent_config.check_url(url)
    if ca_file is not None and not ca_file.is_file():
        raise UserError(f"Le certificat d'autorité {ca_file} n'existe pas.")
    ca = str(ca_file.resolve()) if ca_file else None
    key = agent_config.new_key()
    public = signing.b64encode(key.public_key().public_bytes_raw())
    body = {"jeton": token.strip(), "cle_publique": public, "poste": hostname or socket.gethostname()}
    try:
        with _client(ca) as client:
            response = client.post(url + ENROL_PATH, json=body)
    except httpx.HTTPError as exc:
        raise _unreachable(url, exc) from exc
    if response.status_code != 200:
        raise UserError(f"Inscription refusée : {_server_error(response)}")
    data = _answer(response)
    if not all(isinstance(data.get(k), str) for k in ("agent", "pharmacie", "nom")):
        raise UserError(f"{url} n'a pas répondu comme un serveur du parc officine-cyber : rien n'a été enregistré.")
    config = AgentConfig(url, data["agent"], data["pharmacie"], data["nom"], ca)
    agent_config.save(config, key)
    return config


def queue(outbox: Outbox, store: Store, snapshot: dict[str, Any] | None, now: datetime | None = None) -> Path | None:
    """Put the snapshot and the events recorded since the last time in the queue (on disk,
    whole) before anything is sent. None when there was nothing to send."""
    now = now or datetime.now(UTC)
    recorder = Recorder(store)
    events = recorder.collect(now)
    if snapshot is None and not events:
        return None
    path = outbox.put(lambda sequence: message.build(sequence, now, snapshot, events))
    recorder.advance()
    return path


@dataclass
class Sent:
    sent: int = 0
    already: int = 0  # the server had it (an answer lost on the way back)
    set_aside: int = 0
    left: int = 0
    problem: str | None = None


def flush(outbox: Outbox, config: AgentConfig, key: Ed25519PrivateKey) -> Sent:
    """Send the queue in order. Stops at the first message that could not be delivered."""
    result = Sent()
    with _client(config.ca_file) as client:
        for path in outbox.pending():
            body = path.read_bytes()
            headers = signing.sign(key, config.agent, config.tenant, body)
            headers["content-type"] = "application/json"
            try:
                response = client.post(config.endpoint(MESSAGE_PATH), content=body, headers=headers)
            except httpx.HTTPError as exc:
                result.problem = _unreachable(config.url, exc).message
                break
            answer = _answer(response)
            if response.status_code == 200 and answer.get("recu") is True:
                result.already += bool(answer.get("deja"))
                result.sent += 1
                outbox.done(path)
                continue
            code = _code(response)
            if code in UNREADABLE:
                outbox.set_aside(path, f"{code}: {_server_error(response)}")
                result.set_aside += 1
                continue
            if response.status_code >= 500:
                result.problem = f"Le serveur du parc n'a pas pu prendre l'envoi : {_server_error(response)}"
            else:
                result.problem = f"Envoi refusé par le serveur : {_server_error(response)}"
            break
    result.left = len(outbox.pending())
    return result


def load_snapshot_file(path: Path) -> dict[str, Any]:
    """A snapshot collected before (`officine collect`), checked as the server will check it."""
    from officine import snapshot as snapshots_mod  # noqa: PLC0415

    snap = snapshots_mod.load(path)
    document: dict[str, Any] = json.loads(json.dumps(snap.to_json()))
    return document
