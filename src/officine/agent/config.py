"""The agent's identity on this workstation: the server, its own id and pharmacy (tenant), and
its private key, in the configuration folder (owner-only). The server has only the public key."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from officine.errors import UserError
from officine.paths import config_dir, data_dir


def agent_dir() -> Path:
    return config_dir() / "agent"


def queue_dir() -> Path:
    return data_dir() / "agent" / "file-d-attente"


@dataclass(frozen=True)
class AgentConfig:
    url: str  # the server, ending with "/"
    agent: str
    tenant: str
    pharmacy: str
    ca_file: str | None = None  # a certificate authority to trust for the server (self-signed)

    def endpoint(self, path: str) -> str:
        return self.url + path.lstrip("/")


def check_url(url: str) -> str:
    """https, or http to this very machine only: the token and the messages never cross a
    network in clear."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"Adresse du serveur invalide : {url}. Exemple : https://parc.exemple.fr/")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise UserError(
            "Le serveur du parc doit être en https (http seulement pour un serveur sur ce poste, 127.0.0.1) : "
            "le jeton et les instantanés ne circulent jamais en clair sur le réseau."
        )
    return url if url.endswith("/") else url + "/"


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _private_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def save(config: AgentConfig, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _private_write(agent_dir() / "agent.key", pem)
    _private_write(agent_dir() / "agent.json", json.dumps(asdict(config), indent=1).encode())


def load() -> tuple[AgentConfig, Ed25519PrivateKey]:
    folder = agent_dir()
    try:
        config = AgentConfig(**json.loads((folder / "agent.json").read_text(encoding="utf-8")))
        key = serialization.load_pem_private_key((folder / "agent.key").read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise UserError(
            "Ce poste n'est pas inscrit au parc : « officine agent inscrire ADRESSE --jeton JETON » "
            "(le jeton se crée dans la console, page de la pharmacie)."
        ) from exc
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise UserError(
            f"La configuration de l'agent ({folder}) est abîmée : inscrivez de nouveau le poste avec un nouveau jeton."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"La clé de l'agent ({folder / 'agent.key'}) n'est pas une clé Ed25519.")
    return config, key
