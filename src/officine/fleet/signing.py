"""How an agent signs what it sends, and how the server checks it (Ed25519, `cryptography`).

The signature covers, in this order and separated by new lines: a fixed label, the agent's id,
the pharmacy it speaks for (its tenant), a random nonce, the time of sending (seconds since
1970, UTC) and the SHA-256 of the body. The server keeps only the agent's public key; a message
whose body, agent, tenant, nonce or time was changed no longer verifies, and a nonce is
accepted once."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

LABEL = b"officine-cyber/message-agent/1"
AGENT, TENANT, NONCE, TIMESTAMP, SIGNATURE = (
    "x-officine-agent",
    "x-officine-tenant",
    "x-officine-nonce",
    "x-officine-timestamp",
    "x-officine-signature",
)
AGENT_ID = re.compile(r"ag_[A-Za-z0-9_-]{16,36}")
TENANT_ID = re.compile(r"[0-9a-f]{24}")
NONCE_TEXT = re.compile(r"[A-Za-z0-9_-]{22,64}")
TIMESTAMP_TEXT = re.compile(r"[0-9]{1,12}")
SIGNATURE_TEXT = re.compile(r"[A-Za-z0-9_-]{86}")  # 64 bytes, base64url without padding
PUBLIC_KEY_TEXT = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes


@dataclass(frozen=True)
class SignedHeaders:
    agent: str
    tenant: str
    nonce: str
    timestamp: int
    signature: bytes

    @classmethod
    def parse(cls, headers: dict[str, str]) -> SignedHeaders | None:
        """The five headers, each well formed; None when one is missing or malformed."""
        values = {name: headers.get(name, "") for name in (AGENT, TENANT, NONCE, TIMESTAMP, SIGNATURE)}
        checks = {
            AGENT: AGENT_ID,
            TENANT: TENANT_ID,
            NONCE: NONCE_TEXT,
            TIMESTAMP: TIMESTAMP_TEXT,
            SIGNATURE: SIGNATURE_TEXT,
        }
        if not all(pattern.fullmatch(values[name]) for name, pattern in checks.items()):
            return None
        return cls(values[AGENT], values[TENANT], values[NONCE], int(values[TIMESTAMP]), b64decode(values[SIGNATURE]))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed_text(agent: str, tenant: str, nonce: str, timestamp: int, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    parts = [LABEL, agent.encode(), tenant.encode(), nonce.encode(), str(timestamp).encode(), digest.encode()]
    return b"\n".join(parts)


def sign(key: Ed25519PrivateKey, agent: str, tenant: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The headers of a message: a fresh nonce and the time of sending, signed with the body."""
    nonce = secrets.token_urlsafe(24)
    timestamp = int(now if now is not None else time.time())
    signature = key.sign(signed_text(agent, tenant, nonce, timestamp, body))
    return {
        AGENT: agent,
        TENANT: tenant,
        NONCE: nonce,
        TIMESTAMP: str(timestamp),
        SIGNATURE: b64encode(signature),
    }


def verifies(public_key: bytes, headers: SignedHeaders, body: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
        key.verify(
            headers.signature, signed_text(headers.agent, headers.tenant, headers.nonce, headers.timestamp, body)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_of(text: str) -> bytes | None:
    """A raw Ed25519 public key sent at enrolment (base64url), or None when it is not one."""
    if not PUBLIC_KEY_TEXT.fullmatch(text):
        return None
    try:
        raw = b64decode(text)
        Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error):
        return None
    return raw
